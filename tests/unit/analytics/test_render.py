"""Rendering: measures at the standard's printed precision, null where a class has none."""
import json
from decimal import Decimal

from analytics.domain.prepayment import constant
from analytics.domain.deal_projection import ClassMeasures, Pricing, project
from analytics.domain.render import as_json, measure_fields, render
from analytics.domain.scenarios import PoolTerms, pool_deal

POOL = PoolTerms(balance_cents=25_000_000, gross_wac=Decimal(7), net_wac=Decimal("6.5"), term=180, age=0)


def test_measures_are_decimal_strings_at_the_printed_precision():
    projection = project(pool_deal(POOL, ()), constant("cpr", 10), pricing=Pricing(price=101.5))
    pt = as_json(projection)["classes"]["PT"]
    assert pt["price"] == "101.5000"
    assert len(pt["yield"].split(".")[1]) == 5 and len(pt["convexity"].split(".")[1]) == 4
    assert len(pt["periods"]) == 180 and pt["periods"][-1]["balance_end"] == "0.00"
    assert json.loads(render(projection, "json")) == as_json(projection)


def test_a_class_without_measures_shows_nulls():
    nothing = ClassMeasures(wal_years=None, final_period=None, yield_percent=None, price=None,
                            modified_duration=None, convexity=None)
    assert set(measure_fields(nothing).values()) == {None}
