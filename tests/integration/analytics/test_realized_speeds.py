"""Realized speeds of a closed period, from the published balances and the loans' own schedules."""
import pytest

from analytics.domain.prepayment import psa_from_cpr
from analytics.selectors import TrustNotFound, realized_speed_history, realized_speeds
from remittance.domain.trust_calendar import Period
from tests.integration.remittance.months import (
    INSTALLMENT_CENTS,
    SEED_LOANS,
    close,
    pay,
    pay_everyone,
    seed_trust,
)
from tests.integration.trusts.deals import TRUST

pytestmark = pytest.mark.django_db

SCHEDULED_PRINCIPAL = 9_955  # each $100,000 loan's first installment: 599.55 - 500.00 interest


def test_a_curtailment_is_the_months_prepayment(loans):
    seed_trust()
    for loan in SEED_LOANS:
        pay(loan, Period.parse("2026-02"), INSTALLMENT_CENTS + (1_000_000 if loan == "L001" else 0))
    close("2026-02")
    realized = realized_speeds(TRUST, "2026-02")
    scheduled_end = 100_000_000 - 10 * SCHEDULED_PRINCIPAL
    assert (realized.balance_begin_cents, realized.balance_end_scheduled_cents) == (100_000_000, scheduled_end)
    assert realized.balance_end_actual_cents == scheduled_end - 1_000_000
    smm = 100 * 1_000_000 / scheduled_end
    assert realized.speeds.smm == pytest.approx(smm)
    assert realized.speeds.cpr == pytest.approx(100 * (1 - (1 - smm / 100) ** 12))
    assert realized.loan_month == 1
    assert realized.speeds.psa == pytest.approx(psa_from_cpr(realized.speeds.cpr, 1))


def test_a_missed_installment_shows_as_a_negative_rate_and_every_closed_period_has_speeds(loans):
    seed_trust()
    pay_everyone("2026-02")
    close("2026-02")
    pay_everyone("2026-03", loans=SEED_LOANS[1:])  # L001 misses its March installment
    close("2026-03")
    history = realized_speed_history(TRUST)
    assert [h.period for h in history] == ["2026-02", "2026-03"]
    assert history[0].speeds.smm == pytest.approx(0, abs=1e-12)
    assert history[1].speeds.smm < 0 and history[1].loan_month == 2
    assert realized_speeds(TRUST, "2026-04") is None


def test_an_unknown_trust_is_named():
    with pytest.raises(TrustNotFound, match="no trust 'NOPE'"):
        realized_speeds("NOPE", "2026-02")
