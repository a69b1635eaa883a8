"""Fixtures for the four-eyes tests: the seed's loans, three staff logins, and a stand-in for the queue.

Clara (clerk) may ask for requests; Chen (checker) may approve them; Jo
(junior) may ask and look but not approve. The queue records what an
approval enqueued, for the test to run as a worker would.
"""
import pytest
from django.contrib.auth.models import Permission, User

from remittance.tasks import close_period_task
from tests.integration.trusts.conftest import loans  # noqa: F401

ASK = ("approvals", "add_approvalrequest")
LOOK = ("approvals", "view_approvalrequest")
APPROVE = ("approvals", "approve_request")


def staff(username: str, *permissions: tuple[str, str]) -> User:
    user = User.objects.create_user(username, password=f"{username}-password-1", is_staff=True)
    user.user_permissions.add(*(Permission.objects.get(content_type__app_label=app, codename=code)
                                for app, code in permissions))
    return User.objects.get(pk=user.pk)  # fresh: no stale permission cache


@pytest.fixture
def clara(db):
    return staff("clara", ASK, LOOK)


@pytest.fixture
def chen(db):
    return staff("chen", LOOK, APPROVE)


@pytest.fixture
def jo(db):
    return staff("jo", ASK, LOOK)


class FakeQueue:
    """Stands in for the broker: records each apply_async, and runs one as a worker would (callbacks too)."""

    def __init__(self):
        self.sent = []

    def apply_async(self, args, kwargs, **options):
        self.sent.append((args, kwargs, options))

    def run(self, index: int = 0) -> dict:
        """Run an enqueued close here, then its linked outcome callback, as the worker and broker would."""
        args, kwargs, options = self.sent[index]
        answer = close_period_task.apply(args=args, kwargs=kwargs).get()
        options["link"].apply((answer,))
        return answer


@pytest.fixture
def close_queue(monkeypatch):
    queue = FakeQueue()
    monkeypatch.setattr("approvals.acts.close_period_task", queue)
    return queue
