"""Fixtures for the admin tests: the seed's loans and trust, a closed month, and a view-only clerk."""
import pytest
from django.contrib.auth.models import Permission

from tests.integration.remittance.months import close, pay_everyone, seed_trust
from tests.integration.trusts.conftest import loans  # noqa: F401

VIEWED_APPS = ("ledger", "servicing", "trusts", "remittance")


@pytest.fixture
def closed_month(loans):  # noqa: F811
    """XYZ-2026-1 (first period February 2026), every seed loan paid in February, February closed."""
    trust = seed_trust()
    pay_everyone("2026-02")
    close("2026-02")
    return trust


@pytest.fixture
def viewer(django_user_model):
    """Staff who may look at everything here and change nothing: only the "Can view" permissions."""
    user = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=VIEWED_APPS,
                                                        codename__startswith="view_"))
    return user


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client
