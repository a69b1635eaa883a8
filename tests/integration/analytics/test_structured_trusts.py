"""Structured trusts (docs/deals/) projected by their own structure: the agency PAC/support/Z/IO deal, and a
schedule built from its collateral holding its PAC flat across the band; the private-label deal's trustee
fee, reserve, over-collateralisation and triggers carried month to month."""
from decimal import Decimal

import pytest

from analytics.domain.deal_projection import project
from analytics.domain.pac_schedule import pac_schedule
from analytics.domain.prepayment import constant
from analytics.domain.speed_grid import band_tests, speed_grid
from analytics.selectors import trust_deal
from tests.integration.trusts.deals import form
from analytics.domain.defaults import default_scenario
from tests.integration.trusts.test_forming_structured import AGENCY, PRIVATE, boarded, example  # noqa: F401
from trusts.selectors import deal_structure

pytestmark = pytest.mark.django_db


def test_a_trust_is_projected_by_its_own_structure(boarded):  # noqa: F811
    trust = form(example(AGENCY))
    deal, _period = trust_deal(trust.code)
    assert deal.structure.deal == deal_structure(trust) and deal.structure.first_period_number == 1
    first = project(deal, constant("psa", 165)).months[0].waterfall
    assert [first.for_class(n).kind for n in ("PA", "S", "Z", "PX")] == ["pac", "support", "accrual", "io"]
    assert first.for_class("Z").interest_accrued_cents > 0 and first.for_class("Z").interest_paid_cents == 0
    assert first.for_class("PX").balance_begin_cents == first.for_class("PA").balance_begin_cents
    assert first.for_class("PA").balance_end_cents == deal.structure.deal.features_of("PA").scheduled_balance(1)


def test_the_example_deals_schedule_is_the_one_built_from_its_collateral_and_holds_its_pac_flat(boarded):  # noqa: F811
    """docs/deals/agency-pac-2026-1.json's schedule is what `project_deal --pac-schedule 90,300` builds from
    its tape, and the deal as formed keeps its PAC's average life flat across the band."""
    trust = form(example(AGENCY))
    deal, _period = trust_deal(trust.code)
    pa = deal.structure.deal.features_of("PA")
    face = next(c.balance_cents for c in deal.structure.classes if c.name == "PA")
    assert pac_schedule(deal.replines, pa.band, face_cents=face).balances == pa.schedule
    grid = speed_grid(deal, [Decimal(0), Decimal(165), Decimal(500)])
    [test] = band_tests(deal, grid)
    assert test.band == (Decimal(90), Decimal(300)) and test.flat and test.varies_outside


def test_the_private_label_deal_carries_its_reserve_losses_and_triggers_month_to_month(boarded):  # noqa: F811
    trust = form(example(PRIVATE))
    deal, _period = trust_deal(trust.code)
    assert deal.structure.reserve_balance_cents == 25_000_00  # the initial deposit, before the first close
    defaults = default_scenario("cdr", [6], severity=40, lag=6, advance=False)
    months = project(deal, constant("psa", 150), defaults).months
    first = months[0].waterfall
    assert first.reserve_balance_begin_cents == 25_000_00 and first.trustee_fee_paid_cents > 0
    for before, after in zip(months, months[1:]):
        w, nxt = before.waterfall, after.waterfall
        assert nxt.reserve_balance_begin_cents == w.reserve_balance_end_cents
    statuses = [m.waterfall.triggers for m in months]
    cumulative = 0
    for k, (m, status) in enumerate(zip(months, statuses), start=1):
        cumulative += m.waterfall.realized_loss_cents
        # Measured against the pool's cut-off balance, losses of every earlier month included.
        assert status.cumulative_loss_percent == Decimal(cumulative) * 100 / deal.structure.cutoff_balance_cents
        assert status.stepdown_reached == (k >= 36)
    failed = [k for k, t in enumerate(statuses) if t.failed]
    assert failed and all(t.in_effect for t in statuses[failed[0]:])  # sticky
