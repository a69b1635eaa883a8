"""Trusts in the admin: the trust's pool, classes, holders and periods; holders' holdings and payments; transfers."""
from datetime import date

import pytest
from django.urls import reverse

import trusts.admin
from ledger.models import Event
from tests.integration.remittance.months import seed_trust
from tests.integration.trusts.deals import TRUST, transfer
from trusts.models import Holder, HoldingMovement, SecurityClass

pytestmark = pytest.mark.django_db
TRANSFER = reverse("admin:trusts_holdingmovement_transfer")


def page(client, url, **query) -> str:
    response = client.get(url, query)
    assert response.status_code == 200
    return response.content.decode()


def test_the_trust_page_shows_its_classes_pool_holders_and_periods(admin_client, closed_month):
    trust = page(admin_client, reverse("admin:trusts_trust_change", args=[closed_month.pk]))
    for text in (
        "999,004.50", "0.99900450", "2026-02",  # class A after February's close
        "10 loans in the pool now (0 removed); cut-off balance 1,000,000.00, unpaid balance now 999,004.50",
        '<a href="/admin/servicing/loan/L010/change/">L010</a>', "98,500.00",  # the pool, as links to its loans
        f'<a href="/admin/trusts/poolloan/?trust__id__exact={closed_month.pk}">All 10 pool loans</a>',
        "INV-01", "100,000.00", "99,900.45",  # a holder's original and current face
        "Closed", "2026-03-25",  # February's period, paid on 25 March
    ):
        assert text in trust, text
    assert 'name="_save"' not in trust


def test_a_large_pool_shows_its_first_loans_and_links_to_the_rest(admin_client, closed_month, monkeypatch):
    monkeypatch.setattr(trusts.admin, "POOL_ROWS", 3)
    trust = page(admin_client, reverse("admin:trusts_trust_change", args=[closed_month.pk]))
    assert "The first 3 shown." in trust and "All 10 pool loans" in trust
    assert "L003" in trust and ">L004<" not in trust


def test_the_lists_show_class_balance_and_factor_and_the_pool_now(admin_client, closed_month):
    classes = page(admin_client, reverse("admin:trusts_securityclass_changelist"))
    assert "999,004.50" in classes and "0.99900450" in classes and "1,000,000.00" in classes
    trusts_list = page(admin_client, reverse("admin:trusts_trust_changelist"))
    assert "999,004.50" in trusts_list and "2026-02" in trusts_list
    pool = page(admin_client, reverse("admin:trusts_poolloan_changelist"), trust__id__exact=closed_month.pk)
    assert "99,900.45" in pool and "Active" in pool


def test_a_class_before_any_close_is_at_its_original_face(admin_client, loans):
    seed_trust()
    classes = page(admin_client, reverse("admin:trusts_securityclass_changelist"))
    assert "1.00000000" in classes and "no close yet" in classes


def test_the_holder_page_shows_holdings_and_payments(admin_client, closed_month):
    holder = Holder.objects.get(code="INV-01")
    holder_page = page(admin_client, reverse("admin:trusts_holder_change", args=[holder.pk]))
    for text in ("XYZ-2026-1", "100,000.00", "0.99900450", "99,900.45",  # holdings today
                 "2026-02", "400.00", "99.55", "499.55", "all 1 payments",  # February's payment
                 "Transfer from this holder"):
        assert text in holder_page, text


def test_a_transfer_from_the_admin_moves_the_face_and_records_who_did_it(admin_client, admin_user, closed_month):
    a = SecurityClass.objects.get(trust__code=TRUST, name="A")
    done = admin_client.post(TRANSFER, {
        "security_class": a.pk, "from_holder": "INV-01", "to_holder": "INV-02", "face": "50000.00",
        "trade_date": "2026-04-01", "settlement_date": "2026-04-03"}, follow=True)
    assert ("Transferred 50,000.00 of XYZ-2026-1 class A from INV-01 to INV-02, settling 2026-04-03"
            in done.content.decode())
    event = Event.objects.get(event_type="HoldingTransferred")
    assert event.acting_user_id == admin_user.pk and event.payload["face_cents"] == 5_000_000
    assert HoldingMovement.objects.filter(holder__code="INV-01", face_cents=-5_000_000).exists()


def test_an_overdraft_is_refused_with_the_reason_and_records_nothing(admin_client, closed_month):
    a = SecurityClass.objects.get(trust__code=TRUST, name="A")
    form = {"security_class": a.pk, "from_holder": "INV-01", "to_holder": "INV-03", "trade_date": "2026-04-01"}
    over = admin_client.post(TRANSFER, {**form, "face": "150000.00", "settlement_date": "2026-04-03"})
    assert over.status_code == 200
    assert ("Nothing transferred: holder INV-01 holds 100,000.00 of class A, less than the 150,000.00 to transfer"
            in over.content.decode())
    transfer(face_cents=6_000_000, trade_date=date(2026, 4, 1), settlement_date=date(2026, 4, 10))
    # 60,000.00 already sold settling on 10 April: only 40,000.00 may be sold settling before it.
    later = admin_client.post(TRANSFER, {**form, "face": "50000.00", "settlement_date": "2026-04-05"})
    assert "but transfers settling later leave 40,000.00" in later.content.decode()
    bad_face = admin_client.post(TRANSFER, {**form, "face": "500.005", "settlement_date": "2026-04-05"})
    assert "fractions of a cent" in bad_face.content.decode()
    assert Event.objects.filter(event_type="HoldingTransferred").count() == 1


def test_the_transfer_form_opens_from_the_register_and_the_holder(admin_client, closed_month):
    register = page(admin_client, reverse("admin:trusts_holdingmovement_changelist"))
    assert TRANSFER in register
    form = page(admin_client, TRANSFER, from_holder="INV-01")
    assert '<option value="INV-01" selected>' in form


def test_a_view_only_clerk_reads_trusts_and_holders_but_cannot_transfer_or_edit(viewer_client, closed_month):
    trust = page(viewer_client, reverse("admin:trusts_trust_change", args=[closed_month.pk]))
    assert "99,900.45" in trust
    holder = Holder.objects.get(code="INV-01")
    holder_page = page(viewer_client, reverse("admin:trusts_holder_change", args=[holder.pk]))
    assert "499.55" in holder_page and "Transfer from this holder" not in holder_page
    assert 'name="_save"' not in holder_page
    assert "Transfer holdings" not in page(viewer_client, reverse("admin:trusts_holdingmovement_changelist"))
    assert viewer_client.get(TRANSFER).status_code == 403
    a = SecurityClass.objects.get(trust__code=TRUST, name="A")
    refused = viewer_client.post(TRANSFER, {"security_class": a.pk, "from_holder": "INV-01", "to_holder": "INV-02",
                                            "face": "1000.00", "trade_date": "2026-04-01",
                                            "settlement_date": "2026-04-01"})
    assert refused.status_code == 403 and not Event.objects.filter(event_type="HoldingTransferred").exists()
