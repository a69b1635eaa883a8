"""Projection and actual close agree: borrowers paying exactly the projected amounts close to the projected classes.

The trust is projected from its current pool and classes; every borrower
then pays the installment and the curtailment the projection gave its loan
for the month, and the month is closed by the real month-end close. The
close's fee, spread and class payments must be the projection's, to the cent.
"""
import pytest

from analytics.domain.defaults import NO_DEFAULTS
from analytics.domain.prepayment import constant
from analytics.domain.deal_projection import project
from analytics.selectors import trust_deal
from remittance.domain.trust_calendar import Period
from remittance.models import ClassPeriod, PeriodResult
from tests.integration.remittance.months import (
    INSTALLMENT_CENTS,
    SEED_LOANS,
    close,
    pay,
    seed_trust,
)
from tests.integration.trusts.deals import TRUST

pytestmark = pytest.mark.django_db

SEQUENTIAL = [
    {"name": "A1", "face": "20000.00", "coupon": "3", "principal": "sequential", "priority": 1},
    {"name": "A2", "face": "480000.00", "coupon": "3.5", "principal": "sequential", "priority": 2},
    {"name": "M", "face": "300000.00", "coupon": "4", "principal": "sequential", "priority": 3},
    {"name": "B", "face": "200000.00", "coupon": "4.5", "principal": "sequential", "priority": 4},
]
SEQUENTIAL_HOLDERS = [{"code": f"INV-{c['name']}", "name": f"Holder of {c['name']}", "class": c["name"],
                       "face": c["face"]} for c in SEQUENTIAL]
DEALS = {"pass-through": {}, "sequential": {"classes": SEQUENTIAL, "holders": SEQUENTIAL_HOLDERS}}


def pay_as_projected(month, period: str):
    """Each borrower pays its installment (P&I and escrow) plus the projected prepayment, as a curtailment."""
    for loan in month.collateral:
        assert loan.payment_cents + 25_000 == INSTALLMENT_CENTS  # the projected P&I is the contractual one
        pay(loan.name, Period.parse(period), INSTALLMENT_CENTS + loan.prepayment_cents)


def assert_close_matches(period: str, month):
    result = PeriodResult.objects.get(trust__code=TRUST, period=period)
    w = month.waterfall
    assert result.interest_collected_cents == w.interest_collected_cents
    assert result.principal_collected_cents == w.principal_collected_cents
    assert (result.servicing_fee_cents, result.issuer_spread_cents) == (w.fee_due_cents, w.spread_due_cents)
    assert result.excess_cents == w.excess_interest_cents + w.excess_principal_cents
    assert result.pool_balance_end_cents == month.total("balance_end_cents")
    for row in ClassPeriod.objects.filter(period=period, security_class__trust__code=TRUST).select_related(
            "security_class"):
        projected = w.for_class(row.security_class.name)
        assert (row.balance_begin_cents, row.interest_paid_cents, row.principal_paid_cents,
                row.interest_shortfall_cents, row.loss_written_off_cents, row.balance_end_cents) == (
            projected.balance_begin_cents, projected.interest_paid_cents, projected.principal_paid_cents,
            projected.interest_shortfall_carried_cents, projected.loss_written_off_cents,
            projected.balance_end_cents)


@pytest.mark.parametrize("deal", sorted(DEALS))
def test_borrowers_paying_the_projected_month_close_to_the_projected_class_payments(loans, deal):
    seed_trust(**DEALS[deal])
    trust_deal_now, period = trust_deal(TRUST)
    assert str(period) == "2026-02"
    projection = project(trust_deal_now, constant("psa", 400), NO_DEFAULTS)
    first = projection.months[0]
    assert first.total("prepayment_cents") > 0
    pay_as_projected(first, "2026-02")
    close("2026-02")
    assert_close_matches("2026-02", first)


def test_with_no_prepayments_every_month_closes_as_projected(loans):
    seed_trust(classes=SEQUENTIAL, holders=SEQUENTIAL_HOLDERS)
    deal, _period = trust_deal(TRUST)
    projection = project(deal, constant("cpr", 0))
    for k, period in enumerate(("2026-02", "2026-03", "2026-04")):
        pay_as_projected(projection.months[k], period)
        close(period)
        assert_close_matches(period, projection.months[k])


def test_a_projection_starts_from_the_trust_as_its_last_close_left_it(loans):
    seed_trust(classes=SEQUENTIAL, holders=SEQUENTIAL_HOLDERS)
    for loan in SEED_LOANS:
        pay(loan, Period.parse("2026-02"), INSTALLMENT_CENTS + (2_500_000 if loan == "L003" else 0))
    close("2026-02")
    deal, period = trust_deal(TRUST)
    assert str(period) == "2026-03"
    # The deal's second period, its triggers and OC measured against the pool's cut-off balance.
    assert deal.structure.first_period_number == 2 and deal.structure.cutoff_balance_cents == 1_000_000_00
    assert deal.structure.reserve_balance_cents == 0  # what the close carried (no reserve: nothing)
    assert {r.name: round(r.balance * 100) for r in deal.replines}["L003"] == 10_000_000 - 9_955 - 2_500_000
    assert [r.age for r in deal.replines] == [1] * 10
    carried = {c.name: c.balance_cents for c in deal.structure.classes}
    assert carried["A1"] == 0 and carried["A2"] < 48_000_000
    projection = project(deal, constant("cpr", 15))
    pay_as_projected(projection.months[0], "2026-03")
    close("2026-03")
    assert_close_matches("2026-03", projection.months[0])
