"""Hardening: logins are throttled and admin sessions end, on SQLite and PostgreSQL alike.

The admin's login is guarded by django-axes (config/settings.py, "Logins"):
LOGIN_FAILURE_LIMIT failed logins for one username, or from one client
address, lock it out with a 429 and a message saying why, a correct password
included, until the cool-off has passed since the last failure. The API's
token endpoint has DRF's per-address rate on top. Admin sessions end after
half an hour idle and a working day after login (config/session_expiry.py):
the session's clocks are moved back in the stored session, never slept through.
"""
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from api.throttles import LoginThrottle
from config.session_expiry import LAST_SEEN_AT, LOGGED_IN_AT

pytestmark = pytest.mark.django_db

LOGIN_URL = "/admin/login/"
TOKEN_URL = "/api/v1/auth/token/"
PASSWORD = "correct-horse-battery-9"
OFFICE, HOME, ELSEWHERE = "198.51.100.10", "198.51.100.20", "203.0.113.30"  # documentation addresses
LOCKOUT_WORDS = "Too many failed logins"


@pytest.fixture(autouse=True)
def quick_hashing(settings):
    """A fast password hasher: the throttling, not PBKDF2's million rounds, is what is under test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def olivia():
    return User.objects.create_user("olivia", password=PASSWORD, is_staff=True, is_superuser=True)


def admin_login(client: Client, username: str, password: str):
    return client.post(LOGIN_URL, {"username": username, "password": password, "next": "/admin/"})


def fail_logins(client: Client, username: str, times: int) -> list[int]:
    return [admin_login(client, username, "wrong-password").status_code for _ in range(times)]


def is_logged_in(client: Client) -> bool:
    return client.get("/admin/").status_code == 200


def test_failed_admin_logins_lock_the_username_out_until_the_cool_off_has_passed(olivia, settings):
    cool_off = timedelta(seconds=4)
    settings.AXES_COOLOFF_TIME = cool_off
    limit = settings.LOGIN_FAILURE_LIMIT
    office = Client(REMOTE_ADDR=OFFICE)

    # Below the limit each failure is the login form's own answer: the form again, with its error.
    assert fail_logins(office, "olivia", limit - 1) == [200] * (limit - 1)
    last_failure = admin_login(office, "olivia", "wrong-password")
    failed_at = time.monotonic()
    assert last_failure.status_code == 429
    assert LOCKOUT_WORDS in last_failure.content.decode()

    # Locked out: the right password is refused too, from the same address and from another one.
    during = admin_login(office, "olivia", PASSWORD)
    assert during.status_code == 429 and LOCKOUT_WORDS in during.content.decode()
    home = Client(REMOTE_ADDR=HOME)
    assert admin_login(home, "olivia", PASSWORD).status_code == 429
    assert not is_logged_in(office) and not is_logged_in(home)
    assert time.monotonic() - failed_at < cool_off.total_seconds(), "the machine was too slow to see the lockout"

    # The refused attempts started the cool-off again; once it has passed the login works.
    time.sleep(cool_off.total_seconds() + 0.5)
    after = admin_login(office, "olivia", PASSWORD)
    assert after.status_code == 302 and after["Location"] == "/admin/"
    assert is_logged_in(office)


def test_failures_from_one_address_lock_that_address_out_for_every_username(olivia):
    limit = settings.LOGIN_FAILURE_LIMIT
    scanner = Client(REMOTE_ADDR=ELSEWHERE)
    answers = [admin_login(scanner, f"guess-{n}", "wrong-password").status_code for n in range(limit)]
    assert answers == [200] * (limit - 1) + [429]

    # The address is locked even for a real login with its right password...
    assert admin_login(scanner, "olivia", PASSWORD).status_code == 429
    # ...but olivia herself was never the target: from her own desk she logs in.
    office = Client(REMOTE_ADDR=OFFICE)
    assert admin_login(office, "olivia", PASSWORD).status_code == 302
    assert is_logged_in(office)


def test_a_correct_login_forgets_earlier_typos(olivia):
    """Staff who mistype now and then (and the browser tests, logging in once per test) are never locked out."""
    limit = settings.LOGIN_FAILURE_LIMIT
    for _round in range(3):
        desk = Client(REMOTE_ADDR=OFFICE)
        assert fail_logins(desk, "olivia", limit - 1) == [200] * (limit - 1)
        assert admin_login(desk, "olivia", PASSWORD).status_code == 302


def test_a_login_without_a_request_is_left_to_the_password_check(olivia):
    """The test client's login() and a shell pass no request: no address to count, the password decides."""
    assert Client().login(username="olivia", password=PASSWORD)
    assert not Client().login(username="olivia", password="wrong-password")


def test_a_forged_forwarded_for_header_does_not_escape_the_lockout(olivia):
    """With no trusted proxy (TRUSTED_PROXY_COUNT=0) the address is the connection's, not the client's claim."""
    assert settings.TRUSTED_PROXY_COUNT == 0
    limit = settings.LOGIN_FAILURE_LIMIT
    scanner = Client(REMOTE_ADDR=ELSEWHERE)
    answers = [scanner.post(LOGIN_URL, {"username": f"guess-{n}", "password": "x"},
                            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}").status_code for n in range(limit)]
    assert answers[-1] == 429


@pytest.fixture
def token_throttle_address():
    """A client address of the test's own, its throttle count cleared before and after (the cache is shared)."""
    address = "192.0.2.77"
    throttle = LoginThrottle()
    key = throttle.cache_format % {"scope": throttle.scope, "ident": address}
    cache.delete(key)
    yield address
    cache.delete(key)


def test_token_login_past_the_rate_is_refused_with_429_even_with_the_right_password(olivia, token_throttle_address):
    allowed, per_seconds = LoginThrottle().parse_rate(LoginThrottle().get_rate())
    assert allowed <= 100, "API_LOGIN_RATE is set too high for this test to reach it"
    api = Client(REMOTE_ADDR=token_throttle_address)
    # Each request claims another address in X-Forwarded-For: with no trusted proxy the claim is ignored.
    answers = [api.post(TOKEN_URL, {"username": "olivia", "password": PASSWORD}, content_type="application/json",
                        HTTP_X_FORWARDED_FOR=f"192.0.2.{n}") for n in range(allowed + 1)]
    assert [a.status_code for a in answers] == [200] * allowed + [429]
    refused = answers[-1]
    assert refused.json()["error"]["code"] and int(refused["Retry-After"]) <= per_seconds


def test_token_login_shares_the_admin_lockout_of_a_username(olivia, token_throttle_address):
    """Guessing a password through the API does not get around the admin's lockout, nor the other way."""
    limit = settings.LOGIN_FAILURE_LIMIT
    fail_logins(Client(REMOTE_ADDR=OFFICE), "olivia", limit)
    api = Client(REMOTE_ADDR=token_throttle_address)
    refused = api.post(TOKEN_URL, {"username": "olivia", "password": PASSWORD}, content_type="application/json")
    assert refused.status_code == 429 and "token" not in refused.json()
    assert refused.json()["error"]["code"] == "throttled" and LOCKOUT_WORDS in refused.json()["error"]["message"]


# --- Sessions --------------------------------------------------------------------


@pytest.fixture
def logged_in(olivia):
    desk = Client(REMOTE_ADDR=OFFICE)
    assert admin_login(desk, "olivia", PASSWORD).status_code == 302
    assert is_logged_in(desk)
    return desk


def move_clocks_back(client: Client, *, idle_seconds: float = 0, age_seconds: float = 0) -> None:
    """Make the stored session look idle for, and logged in for, so many seconds."""
    session = client.session
    now = time.time()
    session[LAST_SEEN_AT] = now - idle_seconds
    session[LOGGED_IN_AT] = now - age_seconds
    session.save()


def sent_to_login(client: Client) -> bool:
    answer = client.get("/admin/")
    return answer.status_code == 302 and answer["Location"] == f"{LOGIN_URL}?next=/admin/"


def test_an_admin_session_idle_past_the_limit_is_sent_to_the_login_page(logged_in):
    move_clocks_back(logged_in, idle_seconds=settings.SESSION_IDLE_TIMEOUT + 1, age_seconds=3600)
    ended_key = logged_in.session.session_key
    assert sent_to_login(logged_in)
    assert sent_to_login(logged_in), "the ended session must stay ended"
    assert not Session.objects.filter(session_key=ended_key).exists(), "logging out deletes the stored session"


def test_a_busy_session_still_ends_a_working_day_after_login(logged_in):
    move_clocks_back(logged_in, idle_seconds=10, age_seconds=settings.SESSION_ABSOLUTE_AGE + 1)
    assert sent_to_login(logged_in)


def test_a_session_in_use_stays_logged_in_and_its_idle_clock_restarts(logged_in):
    move_clocks_back(logged_in, idle_seconds=settings.SESSION_IDLE_TIMEOUT - 60, age_seconds=3600)
    assert is_logged_in(logged_in)
    assert time.time() - logged_in.session[LAST_SEEN_AT] < 60


def test_a_session_past_its_stored_expiry_is_sent_to_the_login_page(logged_in):
    key = logged_in.session.session_key
    assert Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(seconds=1)) == 1
    assert sent_to_login(logged_in)


def test_the_session_cookie_ends_with_the_browser_and_the_stored_session_within_the_day(olivia):
    answer = admin_login(Client(REMOTE_ADDR=OFFICE), "olivia", PASSWORD)
    cookie = answer.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["expires"] == "" and cookie["max-age"] == "" and cookie["httponly"]
    stored = Session.objects.get(session_key=cookie.value)
    assert stored.expire_date <= timezone.now() + timedelta(seconds=settings.SESSION_ABSOLUTE_AGE)
    assert settings.SESSION_IDLE_TIMEOUT == 30 * 60 and settings.SESSION_ABSOLUTE_AGE == 8 * 60 * 60
