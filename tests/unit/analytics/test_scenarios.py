"""The command's options read and checked: every bad input is a clear error naming the option."""
from decimal import Decimal

import pytest

from analytics.domain.scenarios import ScenarioError, parse_request, pool_deal

POOL = {"balance": "1000000.00", "gross_rate": "6.5", "net_rate": "6", "term": "360", "age": "0", "psa": "150"}


def request(**changes):
    return parse_request({**POOL, **changes})


def test_a_pool_with_classes_and_a_default_scenario():
    r = request(classes=["A1:600000:5.5", "A2:400000.00:6"], sda="100", severity="20", lag="12", advance=False,
                delay_days="24", yield_percent="6.1", format="json")
    assert r.pool.balance_cents == 100_000_000 and r.pool.gross_wac == Decimal("6.5")
    assert [(c.name, c.face_cents, c.coupon) for c in r.classes] == [("A1", 60_000_000, Decimal("5.5")),
                                                                   ("A2", 40_000_000, Decimal(6))]
    assert (r.prepayment.kind, r.prepayment.rates) == ("psa", (150.0,))
    assert (r.defaults.kind, r.defaults.severity, r.defaults.lag, r.defaults.advance) == ("sda", 20.0, 12, False)
    assert (r.pricing.delay_days, r.pricing.yield_percent, r.pricing.price) == (24, 6.1, None)
    assert r.output_format == "json" and r.trust_code is None


def test_defaults_advance_unless_told_otherwise_and_speeds_may_be_vectors():
    r = request(psa=None, cpr="2,4,6", cdr="1", severity="35", lag="6")
    assert r.prepayment.rates == (2.0, 4.0, 6.0) and r.defaults.advance is True
    assert request().defaults.rates == (0.0,) and request().output_format == "table"


def test_a_trust_needs_no_pool_options():
    r = parse_request({"trust": "XYZ-2026-1", "cpr": "6"})
    assert r.trust_code == "XYZ-2026-1" and r.pool is None and r.classes == ()


@pytest.mark.parametrize(("changes", "message"), [
    ({"psa": "-50"}, "--psa -50: speeds cannot be negative"),
    ({"psa": None, "cpr": "-1"}, "speeds cannot be negative"),
    ({"psa": None, "smm": "101"}, "cannot exceed 100%"),
    ({"psa": None}, "give one prepayment speed"),
    ({"cpr": "6"}, "not --psa and --cpr together"),
    ({"cdr": "2", "severity": "120", "lag": "12"}, "--severity 120: a loss severity is between 0 and 100"),
    ({"cdr": "2", "severity": "-1", "lag": "12"}, "loss severity is between 0 and 100"),
    ({"cdr": "-2", "severity": "20", "lag": "12"}, "speeds cannot be negative"),
    ({"cdr": "2"}, "--cdr needs --severity and --lag"),
    ({"severity": "20"}, "--severity needs a default rate"),
    ({"severity": "20", "lag": "2"}, "--severity and --lag need a default rate"),
    ({"cdr": "2", "mdr": "1", "severity": "20", "lag": "3"}, "at most one default rate"),
    ({"cdr": "2", "severity": "20", "lag": "-1"}, "--lag -1: must be between 0 and 480"),
    ({"classes": ["A:600000:5", "B:500000:6"]},
     "--class faces add up to 1,100,000.00, more than the pool's 1,000,000.00"),
    ({"classes": ["A:600000"]}, "is not NAME:FACE_DOLLARS:COUPON_PCT"),
    ({"classes": ["A:six:5"]}, "class A face"),
    ({"classes": ["A:100:5", "A:100:5"]}, "A is given twice"),
    ({"classes": ["A:100:x"]}, "class A coupon 'x' is not a percentage"),
    ({"net_rate": "7"}, "--net-rate 7 is above --gross-rate 6.5"),
    ({"age": "360"}, "--age 360 must be less than --term 360"),
    ({"balance": "100.001"}, "--balance: '100.001' has fractions of a cent"),
    ({"balance": "0"}, "--balance 0: must be more than zero"),
    ({"balance": None}, "--balance is required"),
    ({"term": "x"}, "--term 'x' is not a whole number"),
    ({"gross_rate": "31"}, "between 0 and 30 percent"),
    ({"price": "99", "yield_percent": "6"}, "give --price or --yield, not both"),
    ({"price": "0"}, "--price 0: a price must be above zero"),
    ({"delay_days": "-3"}, "--delay-days -3"),
    ({"format": "xml"}, "--format 'xml'"),
    ({"trust": "XYZ-2026-1"}, "--trust takes the pool and classes from the trust; drop --balance"),
])
def test_bad_input_is_a_clear_error(changes, message):
    with pytest.raises(ScenarioError, match=message.replace("(", r"\(").replace(")", r"\)")):
        request(**changes)


def test_without_classes_the_pool_is_one_net_wac_pass_through_class():
    deal = pool_deal(request().pool, ())
    [pt] = deal.structure.classes
    assert (pt.name, pt.balance_cents, pt.coupon) == ("PT", 100_000_000, None)
    assert deal.structure.fee_rates == {"POOL": Decimal("0.5")}


def test_classes_are_sequential_in_the_order_given():
    r = request(classes=["B:100:5", "A:200:4"])
    states = pool_deal(r.pool, r.classes).structure.classes
    assert [(s.name, s.priority, s.principal_rule) for s in states] == [("B", 1, "sequential"),
                                                                       ("A", 2, "sequential")]
