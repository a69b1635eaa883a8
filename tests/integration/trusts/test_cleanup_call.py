"""The clean-up call exercised: its refusals, every loan bought at par plus accrued, one event, the next close
collecting the proceeds, the books verifying and the pool rebuilding from the log; the command."""
import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from ledger.models import Event
from ledger.projections import differences
from ledger.selectors import account_balance
from ledger.services import append
from ledger.verification import verify
from remittance.domain.trust_calendar import Period
from servicing.services.payoff import payoff_quote_get
from tests.actors import TESTS
from tests.integration.remittance.months import SEED_LOANS, close, pay, pay_everyone, seed_trust
from tests.integration.trusts.deals import TRUST
from tests.integration.trusts.races import race
from trusts import selectors
from trusts.errors import TrustError
from trusts.events import CleanUpCallExercised
from trusts.models import PoolLoan, Trust
from trusts.services.cleanup_call import exercise_cleanup_call
from trusts.services.pool import pool_loan_remove

pytestmark = pytest.mark.django_db
MAR20 = date(2026, 3, 20)
# After the February installments each loan owes 99,900.45; nine paid off leave L010 alone, below 10%
# of the cut-off balance of 1,000,000.00.
L010_AFTER_FEB = 10_000_000 - 9_955
CUTOFF = 10 * 10_000_000


def seed_called():
    """The seed's trust (first collection period February 2026) with a 10% clean-up call in its deal file."""
    return seed_trust(cleanup_call_percent="10")


def call(on=MAR20, trust_code=TRUST):
    return exercise_cleanup_call(trust_code=trust_code, call_date=on, acting_user=TESTS)


def calls() -> int:
    return Event.objects.filter(event_type="CleanUpCallExercised").count()


def paid_down():
    """February paid and closed; L001 to L009 paid off on March 10: L010 alone is left, at 99,900.45."""
    seed_called()
    pay_everyone("2026-02")
    close("2026-02")
    march = Period.parse("2026-03")
    for loan in SEED_LOANS[:9]:
        pay(loan, march, cents=payoff_quote_get(loan_number=loan, as_of=date(2026, 3, 10)).amount_due_cents, day=10)


def test_the_call_buys_every_loan_left_and_the_next_close_pays_the_classes(loans):
    paid_down()
    recorded = call()
    quote = payoff_quote_get(loan_number="L010", as_of=MAR20)
    assert (recorded.stream, recorded.event_type, recorded.effective_date) == (f"trust:{TRUST}",
                                                                              "CleanUpCallExercised", MAR20)
    assert recorded.payload == {
        "trust": TRUST, "call_date": "2026-03-20", "pool_balance_cents": L010_AFTER_FEB, "cutoff_balance_cents": CUTOFF,
        "percent": "10", "loans": ["L010"], "price_cents": L010_AFTER_FEB, "interest_cents": quote.interest_cents,
        "exercised_by": str(TESTS),
    }
    assert recorded.idempotency_key == f"cleanup-call:{TRUST}"
    removed = Event.objects.get(event_type="PoolLoanRemoved")
    assert removed.payload["kind"] == "repurchase" and removed.position == recorded.position - 1
    assert removed.payload["proceeds_interest_cents"] == quote.interest_cents > 0
    assert not PoolLoan.objects.filter(trust__code=TRUST, removed_on__isnull=True,
                                       loan__position__status="active").exists()
    assert selectors.cleanup_call_date(Trust.objects.get(code=TRUST)) == MAR20
    assert selectors.cleanup_call_date(Trust.objects.get(code=TRUST), through_position=removed.position) is None
    assert account_balance("clearing:repurchases") == -(L010_AFTER_FEB + quote.interest_cents)

    with pytest.raises(TrustError, match=re.escape(
            f"trust {TRUST}'s clean-up call was already exercised on 2026-03-20; a call is exercised once")):
        call(on=date(2026, 3, 21))
    assert calls() == 1

    f = close("2026-03").result.period_closed
    assert (f.collected["repurchase_principal"], f.collected["repurchase_interest"]) == (
        L010_AFTER_FEB, quote.interest_cents)
    assert f.pool_balance_end_cents == 0
    assert [c.balance_end_cents for c in f.classes] == [0]
    report = verify()
    assert report.ok, report.problems
    assert differences() == []


def test_a_pool_not_below_the_percent_is_refused_with_its_figures(loans):
    seed_called()
    pay_everyone("2026-02")
    with pytest.raises(TrustError, match=re.escape(
            f"trust {TRUST}: clean-up call 2026-03-20 refused: the pool's balance of {10 * L010_AFTER_FEB} cents is "
            f"not below 10% of its cut-off balance of {CUTOFF} cents (10000000 cents)")):
        call()
    assert calls() == 0 and not Event.objects.filter(event_type="PoolLoanRemoved").exists()


def test_a_deal_without_a_call_is_refused(loans):
    seed_trust()
    with pytest.raises(TrustError, match=re.escape(f"trust {TRUST}'s deal has no clean-up call")):
        call()
    assert calls() == 0


@pytest.mark.parametrize("on, message", [
    (date(2026, 1, 15), f"trust {TRUST}: clean-up call 2026-01-15: the trust's cut-off is 2026-01-15; date the call "
                        "after it"),
    (date(2026, 2, 27), f"trust {TRUST}: clean-up call 2026-02-27: trust {TRUST}'s period 2026-02 is closed and paid "
                        "(through 2026-02-28); date it after 2026-02-28, in the open period"),
    (date(2999, 1, 1), f"trust {TRUST}: clean-up call 2999-01-01 is in the future"),
    ("2026-03-20", f"trust {TRUST}: the clean-up call's date must be a date (YYYY-MM-DD), got '2026-03-20'"),
])
def test_a_call_dated_where_it_cannot_be_is_refused(loans, on, message):
    paid_down()
    with pytest.raises(TrustError, match=re.escape(message)):
        call(on=on)
    assert calls() == 0


def test_unknown_trust_and_an_empty_pool_are_refused(loans):
    with pytest.raises(TrustError, match="unknown trust NOPE"):
        call(trust_code="NOPE")
    paid_down()
    pool_loan_remove(trust_code=TRUST, loan_number="L010", removed_on=date(2026, 3, 15), kind="buyout",
                     reason="seriously delinquent", acting_user=TESTS)
    with pytest.raises(TrustError, match=re.escape(
            f"trust {TRUST} has no loans left in its pool for a clean-up call to buy")):
        call()
    assert calls() == 0


def test_cleanup_call_command(loans, capsys):
    paid_down()
    with pytest.raises(CommandError, match="no user named 'nobody'"):
        call_command("cleanup_call", TRUST, "--date", "2026-03-20", "--user", "nobody")
    call_command("cleanup_call", TRUST, "--date", "2026-03-20")
    out = capsys.readouterr().out
    assert f"exercised the clean-up call of {TRUST} on 2026-03-20" in out
    assert "1 loan(s)" in out
    with pytest.raises(CommandError, match="already exercised"):
        call_command("cleanup_call", TRUST, "--date", "2026-03-21")


def test_the_admin_asks_a_date_shows_the_price_then_exercises_the_call(admin_client, loans):
    paid_down()
    trust = Trust.objects.get(code=TRUST)
    page = reverse("admin:trusts_trust_cleanup_call", args=[trust.pk])
    assert page in admin_client.get(reverse("admin:trusts_trust_change", args=[trust.pk])).content.decode()
    assert 'name="call_date"' in admin_client.get(page).content.decode()

    refused = admin_client.post(page, {"call_date": "2026-02-20"}).content.decode()
    assert "No call exercised: trust XYZ-2026-1: clean-up call 2026-02-20: trust XYZ-2026-1&#x27;s period 2026-02" in refused
    confirm = admin_client.post(page, {"call_date": "2026-03-20"}).content.decode()
    assert "Confirm the clean-up call of XYZ-2026-1" in confirm and "99,900.45" in confirm
    assert calls() == 0  # the confirmation page records nothing

    response = admin_client.post(page, {"call_date": "2026-03-20", "confirm": "yes"})
    assert response.status_code == 302 and calls() == 1
    assert page not in admin_client.get(response.url).content.decode()  # exercised: no button any more


def test_the_admin_call_needs_the_pool_permission(client, django_user_model, loans):
    seed_called()
    staff = django_user_model.objects.create_user("clerk", password="x", is_staff=True)
    client.force_login(staff)
    trust = Trust.objects.get(code=TRUST)
    assert client.get(reverse("admin:trusts_trust_cleanup_call", args=[trust.pk])).status_code == 403


def test_verify_names_a_call_its_removals_do_not_price(loans):
    """A call recorded without the service (its removals missing) is named by verify_ledger."""
    seed_trust()
    forged = CleanUpCallExercised(
        trust=TRUST, call_date=MAR20, pool_balance_cents=5, cutoff_balance_cents=CUTOFF, percent=Decimal(10),
        loans=("L010",), price_cents=5, interest_cents=0, exercised_by="nobody")
    append(stream=f"trust:{TRUST}", expected_version=None, events=[forged.new_event(effective_date=MAR20)],
           acting_user=TESTS)
    problems = [p for p in verify().problems if "clean-up call" in p]
    assert len(problems) == 1 and "the 1 events before it are not all removals dated 2026-03-20" in problems[0]


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_calls_record_one(loans):
    paid_down()
    outcomes = race(lambda on: call(on=on), [MAR20, date(2026, 3, 21)])
    assert "done" in outcomes and calls() == 1
    day = Event.objects.get(event_type="CleanUpCallExercised").effective_date.isoformat()
    assert sorted(outcomes) == ["done", f"trust {TRUST}'s clean-up call was already exercised on {day}; "
                                        "a call is exercised once"]
    assert Event.objects.filter(event_type="PoolLoanRemoved").count() == 1
    assert differences() == [] and verify().ok
