"""Webhooks end to end on a real receiver on 127.0.0.1: a close's facts pushed, signed, retried, failed, replayed.

Each test closes February 2026 of the seed's trust (ten holders, 499.55 each)
with Celery eager and the on-commit callbacks run, and reads what the
receiver got (http.server in a thread: tests/integration/webhooks/receiver.py).
"""
import hashlib
import hmac
import json

import pytest
from django.contrib.auth.models import User

from ledger.models import Event
from ledger.projections import rebuild
from ledger.selectors import recorded_events
from remittance.errors import PeriodAlreadyClosed
from tests.actors import TESTS
from tests.integration.remittance.months import close
from tests.integration.webhooks.conftest import MAX_ATTEMPTS
from trusts.models import Holder
from trusts.services.holders import holder_details_change
from webhooks.models import Delivery, DeliveryAttempt, DeliveryStatus
from webhooks.sending import post
from webhooks.services import deliveries_for_closes, delivery_replay, subscription_create, subscription_deactivate

pytestmark = pytest.mark.django_db


def investor(username: str, holder: str) -> User:
    user = User.objects.create_user(username, password=f"{username}-password-1")
    row = Holder.objects.get(code=holder)
    holder_details_change(code=holder, name=row.name, contact=row.contact, user=user, acting_user=TESTS)
    return user


def operations(username: str = "olivia") -> User:
    from django.contrib.auth.models import Group

    user = User.objects.create_user(username, password=f"{username}-password-1")
    user.groups.add(Group.objects.get_or_create(name="operations")[0])
    return user


def verify(secret: str, request) -> bool:
    """The receiver's check, as README gives it (webhooks.domain.signing mirrors it)."""
    timestamp, sent = request.headers["X-MBS-Timestamp"], request.headers["X-MBS-Signature"]
    expected = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + request.body,
                                    hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, sent)


ALL = ["period_closed", "distribution_paid", "statement_ready"]


def test_an_investor_gets_their_own_facts_signed_and_operations_every_holders(february, receiver, close_february):
    alice = investor("alice", "INV-01")
    mine, my_secret = subscription_create(url=receiver.url, kinds=ALL, holder_code="INV-01", acting_user=alice)
    ops, ops_secret = subscription_create(url=receiver.url + "?ops", kinds=["period_closed", "distribution_paid"],
                                          acting_user=operations())
    close_february()

    got = receiver.wait_for(3 + 11)
    alices = [r for r in got if "ops" not in r.path]
    theirs = [r for r in got if "ops" in r.path]
    assert all(verify(my_secret, r) for r in alices) and all(verify(ops_secret, r) for r in theirs)
    assert not any(verify(ops_secret, r) for r in alices)  # each subscription its own secret
    bodies = [json.loads(r.body) for r in alices]
    assert sorted(b["kind"] for b in bodies) == sorted(ALL)
    paid = next(b for b in bodies if b["kind"] == "distribution_paid")
    assert paid["data"] == {"holder": "INV-01", "trust": "XYZ-2026-1", "class": "A", "period": "2026-02",
                            "record_date": "2026-02-27", "payment_date": "2026-03-25", "face_held": "100000.00",
                            "interest": "400.00", "principal": "99.55", "total": "499.55"}
    assert paid["event_position"] == Event.objects.get(stream="holder:INV-01", event_type="DistributionPaid").position
    closed = next(b for b in bodies if b["kind"] == "period_closed")["data"]
    assert (closed["trust"], closed["period"], closed["classes"][0]["class"]) == ("XYZ-2026-1", "2026-02", "A")
    assert next(b for b in bodies if b["kind"] == "statement_ready")["data"]["statement_path"] == \
        "/api/v1/me/statements/2026-02/"
    # Every header, the delivery id the receiver de-duplicates by.
    for r in alices:
        delivery = Delivery.objects.get(pk=int(r.headers["X-MBS-Delivery"]))
        assert delivery.subscription == mine and r.headers["X-MBS-Event"] == delivery.kind
        assert r.body == delivery.body.encode() and r.headers["Content-Type"] == "application/json"
    # Operations: the close and all ten holders' payments, no statements (not asked for).
    kinds = sorted(json.loads(r.body)["kind"] for r in theirs)
    assert kinds == ["distribution_paid"] * 10 + ["period_closed"]
    assert {json.loads(r.body)["data"].get("holder") for r in theirs} == {None} | {f"INV-{i:02d}" for i in range(1, 11)}
    assert set(Delivery.objects.filter(subscription=ops).values_list("status", flat=True)) == {"delivered"}
    assert DeliveryAttempt.objects.filter(delivery__subscription=ops).count() == 11


def test_an_investor_never_gets_another_investors_figures(february, receiver, close_february):
    alice, bob = investor("alice", "INV-01"), investor("bob", "INV-02")
    subscription_create(url=receiver.url + "?alice", kinds=ALL, holder_code="INV-01", acting_user=alice)
    subscription_create(url=receiver.url + "?bob", kinds=["distribution_paid"], holder_code="INV-02", acting_user=bob)
    close_february()

    got = receiver.wait_for(4)
    for who, code in (("alice", "INV-01"), ("bob", "INV-02")):
        bodies = [r.body.decode() for r in got if r.path.endswith(who)]
        assert bodies, who
        for text in bodies:
            others = [f"INV-{i:02d}" for i in range(1, 11) if f"INV-{i:02d}" != code]
            assert not any(other in text for other in others), text
    assert len([r for r in got if r.path.endswith("bob")]) == 1  # one distribution, nothing else asked for


def test_a_failing_receiver_is_retried_with_every_attempt_recorded(february, receiver, close_february):
    receiver.fail_first = MAX_ATTEMPTS - 1
    alice = investor("alice", "INV-01")
    subscription, _ = subscription_create(url=receiver.url, kinds=["distribution_paid"], holder_code="INV-01",
                                          acting_user=alice)
    close_february()

    delivery = Delivery.objects.get(subscription=subscription)
    assert delivery.status == DeliveryStatus.DELIVERED
    attempts = list(delivery.attempts.order_by("number"))
    assert [(a.series, a.number, a.status_code, a.delivered) for a in attempts] == \
        [(1, 1, 500, False), (1, 2, 500, False), (1, 3, 204, True)]
    assert attempts[0].response_excerpt.startswith("receiver down: ") and len(attempts[0].response_excerpt) == 500
    assert all(a.duration_ms >= 0 for a in attempts)
    assert len(receiver.requests) == 3
    # The same delivery each time: its id and body; the signature made anew (its own timestamp).
    assert len({r.headers["X-MBS-Delivery"] for r in receiver.requests}) == 1
    assert len({r.body for r in receiver.requests}) == 1


def test_a_receiver_that_keeps_failing_ends_failed_then_a_replay_delivers(february, receiver, close_february,
                                                                          django_capture_on_commit_callbacks):
    receiver.failing = True
    alice = investor("alice", "INV-01")
    subscription, secret = subscription_create(url=receiver.url, kinds=["statement_ready"], holder_code="INV-01",
                                               acting_user=alice)
    close_february()

    delivery = Delivery.objects.get(subscription=subscription)
    assert delivery.status == DeliveryStatus.FAILED and delivery.finished_at is not None
    assert delivery.attempts.count() == MAX_ATTEMPTS
    assert delivery.last_error == f"{MAX_ATTEMPTS} attempts, the last: HTTP 500"

    receiver.failing = False
    with django_capture_on_commit_callbacks(execute=True):
        delivery_replay(delivery=delivery, acting_user=alice)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.series, delivery.replayed_by) == (DeliveryStatus.DELIVERED, 2, alice)
    assert list(delivery.attempts.filter(series=2).values_list("number", "status_code")) == [(1, 204)]
    assert verify(secret, receiver.requests[-1]) and len(receiver.requests) == MAX_ATTEMPTS + 1


def test_a_fact_is_delivered_once_however_often_it_is_announced(february, receiver, close_february):
    alice = investor("alice", "INV-01")
    subscription_create(url=receiver.url, kinds=ALL, holder_code="INV-01", acting_user=alice)
    close_february()
    assert len(receiver.wait_for(3)) == 3

    # Closing again pays nothing and announces nothing.
    with pytest.raises(PeriodAlreadyClosed):
        close("2026-02")
    # The projections rebuilt from the log: no delivery made, nothing sent.
    rebuild()
    # The same events announced again (a listener called twice): the unique key stands in the way.
    close_events = recorded_events(Event.objects.filter(event_type__in=["PeriodClosed", "DistributionPaid"]))
    assert deliveries_for_closes(close_events) == []
    assert Delivery.objects.count() == 3 and len(receiver.requests) == 3


def test_nothing_is_owed_before_the_close_commits(february, eager, receiver, django_capture_on_commit_callbacks):
    alice = investor("alice", "INV-01")
    subscription_create(url=receiver.url, kinds=ALL, holder_code="INV-01", acting_user=alice)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        close("2026-02")
        assert not Delivery.objects.exists()  # inside the close's transaction: nothing owed, nothing sent
    assert callbacks and not receiver.requests


def test_a_subscription_gets_only_facts_recorded_after_it_was_made(february, receiver, close_february):
    close_february()
    alice = investor("alice", "INV-01")
    subscription_create(url=receiver.url, kinds=ALL, holder_code="INV-01", acting_user=alice)
    close_events = recorded_events(Event.objects.filter(event_type__in=["PeriodClosed", "DistributionPaid"]))
    assert deliveries_for_closes(close_events) == []


def test_a_deactivated_subscription_or_an_unlinked_login_is_sent_nothing(february, receiver, close_february):
    alice, bob = investor("alice", "INV-01"), investor("bob", "INV-02")
    gone, _ = subscription_create(url=receiver.url, kinds=ALL, holder_code="INV-01", acting_user=alice)
    subscription_deactivate(subscription=gone, acting_user=alice)
    subscription_create(url=receiver.url, kinds=ALL, holder_code="INV-02", acting_user=bob)
    # Bob's login is taken off INV-02 (sold, or the link was wrong): his subscription no longer receives.
    row = Holder.objects.get(code="INV-02")
    holder_details_change(code="INV-02", name=row.name, contact=row.contact, user=None, acting_user=TESTS)
    close_february()
    assert not Delivery.objects.exists() and not receiver.requests


def test_a_pending_delivery_stops_once_its_subscription_is_deactivated(february, receiver, close_february,
                                                                         monkeypatch):
    alice = investor("alice", "INV-01")
    subscription, _ = subscription_create(url=receiver.url, kinds=["distribution_paid"], holder_code="INV-01",
                                          acting_user=alice)
    receiver.failing = True

    def post_then_deactivate(*args, **kwargs):  # the owner deactivates while the first attempt is on the wire
        answer = post(*args, **kwargs)
        subscription_deactivate(subscription=subscription, acting_user=alice)
        return answer

    monkeypatch.setattr("webhooks.services.post", post_then_deactivate)
    close_february()
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts.count() == 1
    assert delivery.last_error == "not sent: the subscription was deactivated"


def test_the_address_is_checked_again_at_every_attempt(february, receiver, close_february, settings):
    """A URL accepted once (here: loopback while allowed) is refused when sent to if its address is not allowed now."""
    alice = investor("alice", "INV-01")
    subscription, _ = subscription_create(url=receiver.url.replace("127.0.0.1", "localhost"),
                                          kinds=["distribution_paid"], holder_code="INV-01", acting_user=alice)
    settings.WEBHOOKS_ALLOW_LOOPBACK_HTTP = False
    close_february()
    delivery = Delivery.objects.get(subscription=subscription)
    assert delivery.status == DeliveryStatus.FAILED and not receiver.requests
    errors = set(delivery.attempts.values_list("error", flat=True))
    assert len(errors) == 1 and errors.pop().startswith("refused: 'http://localhost")
