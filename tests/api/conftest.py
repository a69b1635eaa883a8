"""Fixtures for the API tests: the seed's trust and a second one, a closed month, and a login per role.

XYZ-2026-1 is the seed's trust (L001-L010, INV-01 to INV-10 hold class A);
ABC-2026-2 is formed from L011-L012 and held by INV-02 alone. Both close
February 2026. Alice is INV-01, Bob is INV-02, Carol INV-03 (with some of
Bob's ABC-2026-2), Olivia is operations staff, Arthur an approver, Nora is a
login with no role.
"""
from datetime import date

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from api.access import OPERATIONS_GROUP
from approvals.staff_groups import APPROVERS
from tests.actors import TESTS
from tests.integration.remittance.months import close, pay_everyone, seed_trust
from tests.integration.trusts.conftest import loans  # noqa: F401
from tests.integration.trusts.deals import form, seed_deal
from trusts.models import Holder
from trusts.services.holders import holder_details_change
from trusts.services.register import holding_transfer

SECOND_TRUST = "ABC-2026-2"


@pytest.fixture(autouse=True)
def _fresh_throttles(monkeypatch):
    """Throttle counts live in the cache: start each test from zero, with rates a test run does not hit."""
    cache.clear()
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "writes", "10000/minute")
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "login", "10000/minute")
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "analytics", "10000/minute")


def second_deal():
    return seed_deal(
        code=SECOND_TRUST, name="ABC Mortgage Trust 2026-2", loans=["L011", "L012"], first_payment_date="2026-03-25",
        classes=[{"name": "A", "face": "200000.00", "coupon": "net-wac", "principal": "pro-rata",
                  "denomination": "1000.00"}],
        holders=[{"code": "INV-02", "name": "Investor 2", "class": "A", "face": "200000.00"}],
    )


@pytest.fixture
def deals(loans):  # noqa: F811
    """Both trusts formed, February 2026 paid by every borrower and closed."""
    seed_trust()
    form(second_deal())
    pay_everyone("2026-02", loans=[f"L{i:03d}" for i in range(1, 13)])
    close("2026-02")
    close("2026-02", trust=SECOND_TRUST)


def login(username: str, *, holder: str | None = None, operations: bool = False) -> APIClient:
    user = User.objects.create_user(username, password=f"{username}-password-1")
    if holder:
        # Through the holder service, as the admin links a login: recorded, so a rebuild keeps the link.
        row = Holder.objects.get(code=holder)
        holder_details_change(code=holder, name=row.name, contact=row.contact, user=user, acting_user=TESTS)
    if operations:
        # get_or_create: a transactional test before this one flushes the group its migration made.
        user.groups.add(Group.objects.get_or_create(name=OPERATIONS_GROUP)[0])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def alice(deals):
    return login("alice", holder="INV-01")


@pytest.fixture
def bob(deals):
    return login("bob", holder="INV-02")


@pytest.fixture
def olivia(db):
    return login("olivia", operations=True)


@pytest.fixture
def nora(db):
    return login("nora")


@pytest.fixture
def anonymous():
    return APIClient()


class FakeQueue:
    """Stands in for the Celery broker: records the closes an approval enqueued, for the test to run as a worker would.

    The API only asks for a close (an approval request); approving it (approvals.acts) enqueues it.
    """

    def __init__(self):
        self.sent = []

    def apply_async(self, args, kwargs, **options):
        self.sent.append((args, kwargs))


@pytest.fixture
def close_queue(monkeypatch):
    queue = FakeQueue()
    monkeypatch.setattr("approvals.acts.close_period_task", queue)
    return queue


def staff_login(username: str, *groups: str) -> APIClient:
    """A login in the given staff groups (approvals.staff_groups), with no holder."""
    client = login(username)
    user = User.objects.get(username=username)
    for name in groups:
        user.groups.add(Group.objects.get_or_create(name=name)[0])
    return client


@pytest.fixture
def arthur(db):
    """An approver: in the approvers group only, which the API gives no role (its reads are a no-role login's)."""
    return staff_login("arthur", APPROVERS)


@pytest.fixture
def carol(bob):
    """INV-03, who bought 50,000.00 of Bob's ABC-2026-2 class A (settled 2 March): a deal Alice never held."""
    holding_transfer(trust_code=SECOND_TRUST, class_name="A", from_holder="INV-02", to_holder="INV-03",
                     face_cents=5_000_000, trade_date=date(2026, 2, 26), settlement_date=date(2026, 3, 2),
                     acting_user=TESTS)
    return login("carol", holder="INV-03")
