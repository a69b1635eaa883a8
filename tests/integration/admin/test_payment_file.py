"""Importing a payment file in the admin: a preview lists every bad row, nothing posts until confirmed."""
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ledger.models import Event
from servicing.services.payments import payment_post
from tests.integration.servicing.tapes import board, seed_rows

pytestmark = pytest.mark.django_db
IMPORT = reverse("admin:servicing_loan_import_payments")


def payment_file(*rows) -> bytes:
    return ("\n".join(["loan_number,received_on,amount,reference", *(",".join(r) for r in rows)]) + "\n").encode()


GOOD = payment_file(("L001", "2026-02-01", "849.55", "BANK-1"), ("L002", "2026-02-01", "1849.55", "BANK-2"))


@pytest.fixture(autouse=True)
def loans():
    board(*seed_rows(2))


def payments():
    return Event.objects.filter(event_type="PaymentPosted")


def preview(client, raw):
    response = client.post(IMPORT, {"file": SimpleUploadedFile("payments.csv", raw)})
    assert response.status_code == 200
    return response


def test_the_loans_list_offers_the_import_next_to_the_tape_board(admin_client):
    listing = admin_client.get(reverse("admin:servicing_loan_changelist")).content.decode()
    assert IMPORT in listing and "Import a payment file" in listing
    assert "A payment file with any bad row posts nothing" in admin_client.get(IMPORT).content.decode()


def test_a_file_with_a_bad_row_lists_it_with_its_line_and_offers_no_confirm(admin_client):
    raw = payment_file(("L001", "2026-02-01", "849.55", "BANK-1"), ("L002", "2026-02-01", "12.345", "BANK-2"),
                       ("L999", "2026-02-01", "10.00", "BANK-3"))
    page = preview(admin_client, raw).content.decode()
    assert "2 bad rows: nothing will be posted" in page
    assert "line 3: amount: &#x27;12.345&#x27; has fractions of a cent" in page
    assert "line 4: loan L999 is not boarded" in page
    assert 'name="confirm"' not in page
    assert not payments().exists()
    # A confirm sent anyway finds no file waiting: a rejected file is never kept.
    admin_client.post(IMPORT, {"confirm": "1"})
    assert not payments().exists()


def test_a_good_file_previews_its_payments_then_the_confirm_posts_them_all_as_the_staff_member(
        admin_client, admin_user):
    page = preview(admin_client, GOOD).content.decode()
    assert "2 payments of 2,699.10 ready to post" in page and "BANK-2" in page and 'name="confirm"' in page
    assert not payments().exists()
    digest = preview(admin_client, GOOD).context["digest"]
    done = admin_client.post(IMPORT, {"confirm": "1", "digest": digest}, follow=True)
    assert "Posted 2 payment(s) of 2,699.10 (0 payoff(s)); 0 were already posted." in done.content.decode()
    assert sorted(payments().values_list("payload__reference", flat=True)) == ["BANK-1", "BANK-2"]
    assert set(payments().values_list("acting_user", flat=True)) == {admin_user.pk}
    # The file was taken: confirming twice posts nothing more.
    again = admin_client.post(IMPORT, {"confirm": "1", "digest": digest}, follow=True).content.decode()
    assert "no longer waiting" in again and payments().count() == 2


def test_rows_posted_before_are_reported_and_not_posted_twice(admin_client):
    payment_post(loan_number="L001", amount_cents=84_955, received_on=date(2026, 2, 1), reference="BANK-1")
    page = preview(admin_client, GOOD).content.decode()
    assert "1 payment of 1,849.55 ready to post" in page and "1 already posted" in page
    everything_posted = preview(admin_client, payment_file(("L001", "2026-02-01", "849.55", "BANK-1")))
    assert "every payment in this file is already posted" in everything_posted.content.decode()
    assert 'name="confirm"' not in everything_posted.content.decode()


def test_the_confirm_posts_the_previewed_file_not_one_previewed_later_in_another_tab(admin_client):
    digest = preview(admin_client, GOOD).context["digest"]
    preview(admin_client, payment_file(("L001", "2026-02-01", "1.00", "OTHER-1")))
    stale = admin_client.post(IMPORT, {"confirm": "1", "digest": digest}, follow=True).content.decode()
    assert "no longer waiting" in stale and not payments().exists()


def test_a_row_that_went_bad_after_the_preview_rejects_the_whole_file_at_the_confirm(admin_client):
    digest = preview(admin_client, GOOD).context["digest"]
    payment_post(loan_number="L001", amount_cents=100, received_on=date(2026, 2, 1), reference="BANK-1")
    page = admin_client.post(IMPORT, {"confirm": "1", "digest": digest}).content.decode()
    assert "Nothing posted: 1 bad row" in page and "line 2: reference BANK-1 was already used" in page
    assert list(payments().values_list("payload__reference", flat=True)) == ["BANK-1"]


def test_staff_without_the_change_permission_cannot_import(viewer_client):
    assert viewer_client.get(IMPORT).status_code == 403
    assert viewer_client.post(IMPORT, {"file": SimpleUploadedFile("p.csv", GOOD)}).status_code == 403
    assert not payments().exists()
