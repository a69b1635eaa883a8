"""Scheduled/scheduled: the servicer advances what borrowers did not pay and recovers it first."""
import pytest

from ledger.selectors import account_balance
from ledger.verification import verify
from remittance.domain.trust_calendar import Period
from remittance.models import Distribution
from tests.integration.remittance.months import INSTALLMENT_CENTS, SEED_LOANS, close, pay, pay_everyone, seed_trust

pytestmark = pytest.mark.django_db
ADVANCES = "servicer:advances:XYZ-2026-1"


def test_a_missed_installment_is_advanced_and_recovered_from_the_catch_up(loans):
    seed_trust(remittance_type="scheduled/scheduled")
    pay_everyone("2026-02", loans=SEED_LOANS[1:])  # L001 misses February
    february = close("2026-02").result.period_closed
    assert february.advanced_cents == 59_955 and february.recovered_cents == 0
    assert february.advances_outstanding == {"L001": (50_000, 9_955)}
    assert account_balance(ADVANCES) == 59_955
    # Investors are paid as if everyone had paid: the seed's 499.55 each.
    assert {d.total_cents for d in Distribution.objects.filter(period="2026-02")} == {49_955}
    assert february.fee_paid_cents == 50_000  # the fee is on the interest passed to investors

    pay_everyone("2026-03", loans=SEED_LOANS[1:])
    pay("L001", Period.parse("2026-03"), 2 * INSTALLMENT_CENTS)  # February and March at once
    march = close("2026-03").result.period_closed
    assert march.advanced_cents == 0 and march.recovered_cents == 59_955
    assert march.advances_outstanding == {}
    assert account_balance(ADVANCES) == 0
    assert march.interest_available_cents == 10 * 49_950  # March's scheduled interest, 499.50 a loan
    report = verify()
    assert report.ok, report.problems


def test_an_actual_actual_trust_advances_nothing(loans):
    seed_trust()
    pay_everyone("2026-02", loans=SEED_LOANS[1:])
    f = close("2026-02").result.period_closed
    assert f.advanced_cents == 0 and f.interest_available_cents == 9 * 50_000
