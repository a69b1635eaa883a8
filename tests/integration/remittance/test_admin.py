"""The close in the admin: every page opens, money reads as dollars, nothing can be edited or deleted."""
import pytest
from django.urls import reverse

from remittance.models import ClassPeriod, Distribution, PeriodResult, TrustPeriod
from tests.integration.remittance.months import close, pay_everyone, seed_trust

pytestmark = pytest.mark.django_db
MODELS = (TrustPeriod, PeriodResult, ClassPeriod, Distribution)


@pytest.fixture
def closed(loans):
    seed_trust()
    pay_everyone("2026-02")
    close("2026-02")


def url(model, action, *args):
    return reverse(f"admin:remittance_{model._meta.model_name}_{action}", args=args)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_each_list_and_change_page_opens_read_only(admin_client, closed, model):
    assert admin_client.get(url(model, "changelist")).status_code == 200
    page = admin_client.get(url(model, "change", model.objects.order_by("pk").first().pk))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert admin_client.post(url(model, "delete", model.objects.order_by("pk").first().pk)).status_code == 403


def test_the_period_list_shows_the_seeds_figures(admin_client, closed):
    page = admin_client.get(url(PeriodResult, "changelist")).content.decode()
    for text in ("5,000.00", "995.50", "500.00", "4,995.50", "0.99900450"):
        assert text in page
    assert "499.55" in admin_client.get(url(Distribution, "changelist")).content.decode()
