"""Trusts in the admin: every page opens, money reads as dollars, history cannot be edited or deleted."""
from datetime import date

import pytest
from django.urls import reverse

from ledger.models import Event
from tests.integration.trusts.deals import TRUST, transfer
from trusts.events import HolderDetailsChanged
from trusts.models import Holder, HoldingMovement, PoolLoan, SecurityClass, Trust
from trusts.services.pool import pool_loan_remove

pytestmark = pytest.mark.django_db
MODELS = (Trust, SecurityClass, Holder, PoolLoan, HoldingMovement)


@pytest.fixture
def deal(trust):
    transfer()
    pool_loan_remove(trust_code=TRUST, loan_number="L001", removed_on=date(2026, 2, 15), kind="repurchase",
                     reason="breach of representations")
    return trust


def url(model, action, *args):
    return reverse(f"admin:trusts_{model._meta.model_name}_{action}", args=args)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_each_list_and_change_page_opens(admin_client, deal, model):
    assert admin_client.get(url(model, "changelist")).status_code == 200
    assert admin_client.get(url(model, "change", model.objects.order_by("pk").first().pk)).status_code == 200


def test_money_reads_as_dollars_and_the_trust_page_shows_its_classes_and_pool(admin_client, deal):
    classes = admin_client.get(url(SecurityClass, "changelist")).content.decode()
    assert "1,000,000.00" in classes and "net-wac" in classes
    page = admin_client.get(url(Trust, "change", deal.pk)).content.decode()
    for text in ("1,000,000.00", "98,500.00", "L010", "breach of representations"):
        assert text in page
    assert 'name="_save"' not in page
    movements = admin_client.get(url(HoldingMovement, "changelist")).content.decode()
    assert "-50,000.00" in movements and "100,000.00" in movements
    found = admin_client.get(url(Trust, "changelist"), {"q": TRUST}).context["cl"].result_count
    assert found == 1


@pytest.mark.parametrize("model", (Trust, SecurityClass, PoolLoan, HoldingMovement, Holder), ids=lambda m: m.__name__)
def test_nothing_is_added_or_deleted_here(admin_client, deal, model):
    row = model.objects.order_by("pk").first()
    assert admin_client.get(url(model, "add")).status_code == 403
    assert admin_client.post(url(model, "delete", row.pk), {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=row.pk).exists()
    assert "delete_selected" not in admin_client.get(url(model, "changelist")).content.decode()


def test_a_holders_details_are_edited_through_the_service(admin_client, admin_user, deal):
    holder = Holder.objects.get(code="INV-01")
    response = admin_client.post(url(Holder, "change", holder.pk),
                                 {"code": "FORGED", "name": "First Investor LLC", "contact": "ops@first.example"})
    assert response.status_code == 302
    holder.refresh_from_db()
    assert (holder.code, holder.name, holder.contact) == ("INV-01", "First Investor LLC", "ops@first.example")
    event = Event.objects.get(stream="holder:INV-01", event_type=HolderDetailsChanged.event_type)
    assert HolderDetailsChanged.from_payload(event.payload) == HolderDetailsChanged(
        code="INV-01", name="First Investor LLC", contact="ops@first.example", login_id=None, login_name=None)
    assert event.acting_user_id == admin_user.pk
