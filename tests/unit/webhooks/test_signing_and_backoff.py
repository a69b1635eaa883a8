"""The webhooks' pure rules: the signature a receiver checks, and the retry schedule's bounds."""
import hashlib
import hmac
import random

from hypothesis import given
from hypothesis import strategies as st

from webhooks.domain.backoff import retry_delay
from webhooks.domain.signing import signature, signature_verifies


def test_the_signature_is_the_hmac_of_the_timestamp_a_dot_and_the_body():
    body = b'{"kind":"distribution_paid"}'
    expected = hmac.new(b"whsec_k", b"1767225600." + body, hashlib.sha256).hexdigest()
    assert signature("whsec_k", 1767225600, body) == f"sha256={expected}"


@given(secret=st.text(min_size=1, max_size=60), timestamp=st.integers(0, 2**40), body=st.binary(max_size=300))
def test_a_signature_verifies_and_any_change_breaks_it(secret, timestamp, body):
    header = signature(secret, timestamp, body)
    assert signature_verifies(secret, str(timestamp), body, header)
    assert not signature_verifies(secret, str(timestamp + 1), body, header)  # replayed with another time
    assert not signature_verifies(secret, str(timestamp), body + b" ", header)  # body changed
    assert not signature_verifies(secret + "x", str(timestamp), body, header)  # another secret
    assert not signature_verifies(secret, "-1", body, header)


@given(retry=st.integers(1, 40), base=st.floats(0, 600), cap=st.floats(0, 7200), seed=st.integers())
def test_a_retry_waits_between_half_and_all_of_its_capped_exponential_backoff(retry, base, cap, seed):
    backoff = min(cap, base * 2 ** (retry - 1))
    delay = retry_delay(retry, base=base, cap=cap, rng=random.Random(seed))
    assert backoff / 2 <= delay <= backoff


def test_retries_back_off_exponentially():
    middle = [retry_delay(n, base=30, cap=3600, rng=_Half()) for n in range(1, 10)]
    assert middle == [22.5, 45.0, 90.0, 180.0, 360.0, 720.0, 1440.0, 2700.0, 2700.0]


class _Half(random.Random):
    def random(self):
        return 0.5
