"""The deal file: the issue's example parses; every inconsistency is reported together."""
import copy
from decimal import Decimal

from trusts.domain.deal_file import parse_deal

EXAMPLE = {
    "code": "XYZ-2026-1", "name": "XYZ Mortgage Trust 2026-1",
    "issuer": "XYZ Investment Bank", "servicer": "ABC Bank", "trustee": "Trustee Bank",
    "closing_date": "2026-01-01", "cutoff_date": "2026-01-01", "first_payment_date": "2026-02-25",
    "payment_day": 25, "issuer_spread_rate": "0.6", "remittance_type": "actual/actual",
    "purchase_price_percent": "98.5", "residual_holder": "XYZ",
    "loans": ["L001", "L002"],
    "classes": [{"name": "A", "face": "1000000.00", "coupon": "net-wac", "principal": "pro-rata",
                 "denomination": "1000.00"}],
    "holders": [{"code": "INV-01", "name": "First Investor", "class": "A", "face": "100000.00"}],
}


def test_the_issue_example_parses():
    spec, problems = parse_deal(EXAMPLE)
    assert problems == []
    assert spec.code == "XYZ-2026-1" and spec.issuer_spread_rate == Decimal("0.6")
    assert spec.classes[0].coupon is None and spec.classes[0].face_cents == 100_000_000
    assert spec.holders[0].face_cents == 10_000_000 and spec.purchase_price_percent == Decimal("98.5")


def test_sequential_classes_with_fixed_coupons():
    deal = copy.deepcopy(EXAMPLE)
    deal["classes"] = [
        {"name": "A1", "face": "600000.00", "coupon": "5.5", "principal": "sequential", "priority": 1},
        {"name": "A2", "face": "400000.00", "coupon": "7.5", "principal": "sequential", "priority": 2},
    ]
    deal["holders"] = [{"code": "INV-01", "class": "A2", "face": "400000.00"}]
    spec, problems = parse_deal(deal)
    assert problems == [] and [c.coupon for c in spec.classes] == [Decimal("5.5"), Decimal("7.5")]


def test_every_inconsistency_is_reported_together():
    deal = copy.deepcopy(EXAMPLE)
    deal["loans"] = ["L001", "L001"]
    deal["payment_day"] = 40
    deal["issuer_spread_rate"] = 0.6
    deal["classes"].append({"name": "B", "face": "1500.00", "coupon": "x", "principal": "turbo"})
    deal["holders"] += [
        {"code": "INV-02", "class": "A", "face": "100500.00"},
        {"code": "INV-03", "class": "Z", "face": "1000.00"},
        {"code": "INV-04", "class": "A", "face": "900000.00"},
    ]
    spec, problems = parse_deal(deal)
    assert spec is None
    expected = [
        "payment_day: 40 must be a day of the month, 1 to 31",
        "issuer_spread_rate: 0.6 must be a percentage",
        "loans: loan L001 is listed twice",
        "class B coupon: 'x' must be a percentage",
        "class B: principal 'turbo' must be pro-rata or sequential",
        "class B: face 1500.00 is not a whole number of 1000.00 bonds",
        "holders[1] INV-02: face 100500.00 is not a multiple of class A's denomination",
        "holders[2] INV-03: class 'Z' is not a class of this deal",
        "class A: holdings add up to more than its face",
    ]
    for message in expected:
        assert any(p.startswith(message) for p in problems), (message, problems)


def test_not_an_object():
    assert parse_deal([1, 2]) == (None, ["the deal file must be a JSON object"])
