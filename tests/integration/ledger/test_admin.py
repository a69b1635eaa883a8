"""The admin shows the log and refuses every change to it."""
import pytest
from django.urls import reverse

from ledger.models import Event, Posting
from ledger.services import append
from tests.actors import TESTS
from tests.integration.ledger.helpers import cash_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(admin_client):
    append(stream="loan:L1", expected_version=0, events=[cash_event(12_345)], acting_user=TESTS)
    return Event.objects.get()


def test_event_list_and_search_by_stream_and_type(admin_client, event):
    url = reverse("admin:ledger_event_changelist")
    assert admin_client.get(url, {"q": "loan:L1"}).context["cl"].result_count == 1
    assert admin_client.get(url, {"q": "PaymentPosted"}).context["cl"].result_count == 1
    assert admin_client.get(url, {"q": "loan:L999"}).context["cl"].result_count == 0


def test_event_page_is_read_only_with_its_postings(admin_client, event):
    page = admin_client.get(reverse("admin:ledger_event_change", args=[event.position])).content.decode()
    assert "123.45" in page and "trust:T1:custodial" in page
    assert 'name="_save"' not in page and "deletelink" not in page


def test_admin_cannot_add_change_or_delete_events_or_postings(admin_client, event):
    posting = Posting.objects.first()
    assert admin_client.get(reverse("admin:ledger_event_add")).status_code == 403
    admin_client.post(reverse("admin:ledger_event_change", args=[event.position]), {"stream": "forged:1"})
    assert admin_client.post(reverse("admin:ledger_event_delete", args=[event.position]), {"post": "yes"}).status_code == 403
    assert admin_client.post(reverse("admin:ledger_posting_delete", args=[posting.pk]), {"post": "yes"}).status_code == 403
    bulk = admin_client.post(
        reverse("admin:ledger_posting_changelist"),
        {"action": "delete_selected", "_selected_action": [posting.pk], "post": "yes"},
    )
    assert bulk.status_code in (200, 302)
    assert Event.objects.get().stream == "loan:L1"
    assert Posting.objects.count() == 2


def test_bulk_delete_action_is_not_offered(admin_client, event):
    page = admin_client.get(reverse("admin:ledger_posting_changelist")).content.decode()
    assert "delete_selected" not in page


def test_account_balances_show_each_account_once_whatever_its_slots(admin_client, event):
    from ledger.models import AccountBalanceSlot

    # The custodial side as two writers' sessions would leave it: two slots of one account.
    append(stream="loan:L1", expected_version=1, events=[cash_event(655)], acting_user=TESTS)
    row = AccountBalanceSlot.objects.get(account="trust:T1:custodial")
    AccountBalanceSlot.objects.create(account=row.account, slot=row.slot + 1, balance_cents=1_000,
                                      posting_count=1, last_position=2)
    url = reverse("admin:ledger_accountbalance_changelist")
    page = admin_client.get(url, {"account__endswith": ":custodial", "balance_cents__gt": 0}).content.decode()
    assert page.count("trust:T1:custodial") == 1
    assert "140.00" in page  # 123.45 + 6.55 + 10.00: the slots summed
