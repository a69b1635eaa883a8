"""Realized speeds of a closed period, from the published balances and the loans' own schedules."""
from datetime import date

import pytest

from analytics.domain.prepayment import psa_from_cpr
from analytics.selectors import TrustNotFound, realized_speed_history, realized_speeds
from remittance.domain.report_formats import report_table
from remittance.domain.trust_calendar import Period
from remittance.selectors.reports import remittance_report, speed_windows
from servicing.services.default import foreclosure_start, loan_liquidate
from tests.actors import TESTS
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


def test_a_liquidation_is_a_default_not_a_voluntary_prepayment(loans):
    """The month a loan is liquidated: the total CPR counts it, the voluntary CPR does not (SIFMA SF C.3)."""
    seed_trust()
    months = ("2026-02", "2026-03", "2026-04", "2026-05")
    for m in months:
        pay_everyone(m, loans=[n for n in SEED_LOANS if n != "L004"])
        close(m)
    foreclosure_start(loan_number="L004", started_on=date(2026, 6, 5), acting_user=TESTS)
    loan_liquidate(loan_number="L004", liquidated_on=date(2026, 6, 15), gross_proceeds_cents=8_000_000,
                   costs_cents=600_000, acting_user=TESTS)
    pay_everyone("2026-06", loans=[n for n in SEED_LOANS if n != "L004"])
    collected = close("2026-06").result.period_closed.collected
    june = realized_speeds(TRUST, "2026-06")
    defaulted = collected["liquidation_principal"] + collected["realized_loss"]
    assert defaulted == 10_000_000  # L004 never paid: its whole balance defaulted
    assert (june.activity.voluntary_cents, june.activity.defaulted_cents, june.activity.loss_cents) == (
        0, defaulted, collected["realized_loss"])
    assert june.speeds.cpr > 50  # the total rate reads the liquidation as a prepayment
    assert june.split.smm == 0 and june.split.cpr == 0 and june.split.psa == 0
    assert june.split.mdr == pytest.approx(100 * defaulted / june.balance_end_scheduled_cents)
    assert june.split.severity == pytest.approx(100 * collected["realized_loss"] / defaulted)
    history = realized_speed_history(TRUST)
    windows = speed_windows(history)
    assert windows["12m"] is None  # five closed months do not make a year
    assert (windows["1m"].smm, windows["1m"].mdr, windows["1m"].severity) == (
        june.split.smm, june.split.mdr, june.split.severity)
    assert windows["3m"].mdr == pytest.approx(100 * (1 - (1 - june.split.mdr / 100) ** (1 / 3)))
    assert windows["life"].severity == pytest.approx(june.split.severity)
    report = remittance_report(TRUST, "2026-06")["speeds"]
    assert report["defaulted_cents"] == defaulted and report["voluntary_cents"] == 0
    assert report["windows"]["1m"]["voluntary_cpr"] == "0.000000"
    assert report["windows"]["1m"]["mdr"] == f"{june.split.mdr:.6f}"
    assert report["windows"]["12m"] == dict.fromkeys(report["windows"]["1m"])
    assert "MDR %" in report_table(remittance_report(TRUST, "2026-06"))
