"""A structured trust (docs/deals/agency-pac-2026-1.json) projected by its own structure, and a PAC schedule
built from its collateral holding its PAC flat across the band."""
from dataclasses import replace
from decimal import Decimal

import pytest

from analytics.domain.deal_projection import Deal, project
from analytics.domain.pac_schedule import pac_schedule
from analytics.domain.prepayment import constant
from analytics.domain.speed_grid import band_tests, speed_grid
from analytics.selectors import trust_deal
from tests.integration.trusts.deals import form
from tests.integration.trusts.test_forming_structured import AGENCY, boarded, example  # noqa: F401
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


def test_a_schedule_built_from_the_trusts_collateral_holds_its_pac_flat_across_the_band(boarded):  # noqa: F811
    trust = form(example(AGENCY))
    deal, _period = trust_deal(trust.code)
    pa = deal.structure.deal.features_of("PA")
    face = next(c.balance_cents for c in deal.structure.classes if c.name == "PA")
    schedule = pac_schedule(deal.replines, pa.band, face_cents=face)
    features = {**deal.structure.deal.features, "PA": replace(pa, schedule=schedule.balances)}
    rebuilt = Deal(replines=deal.replines,
                   structure=replace(deal.structure, deal=replace(deal.structure.deal, features=features)))
    grid = speed_grid(rebuilt, [Decimal(0), Decimal(165), Decimal(500)])
    [test] = band_tests(rebuilt, grid)
    assert test.band == (Decimal(90), Decimal(300)) and test.flat and test.varies_outside
