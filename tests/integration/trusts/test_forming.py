"""Forming trusts from deal files: the pool, the classes, the first holdings, and refusals."""
import json
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ledger.models import Event
from ledger.projections import differences
from ledger.verification import verify
from tests.integration.trusts.deals import form, seed_deal
from trusts.errors import DealRejected
from trusts.models import PoolLoan, SecurityClass, Trust
from trusts.selectors import holdings_as_of

pytestmark = pytest.mark.django_db


def test_forming_the_seed_pass_through(loans):
    trust = form(seed_deal())
    assert trust.pool.count() == 10
    assert set(PoolLoan.objects.values_list("cutoff_balance_cents", flat=True)) == {10_000_000}
    assert PoolLoan.objects.get(loan_id="L001").price_cents == 9_850_000  # bought at 98.5
    a = SecurityClass.objects.get(trust=trust, name="A")
    assert a.is_net_wac and a.original_face_cents == 100_000_000
    assert holdings_as_of(security_class=a, as_of=date(2026, 1, 15)) == {f"INV-{i:02d}": 10_000_000
                                                                         for i in range(1, 11)}
    assert Event.objects.filter(stream="trust:XYZ-2026-1").count() == 2
    assert verify().ok and differences() == []


def test_a_sequential_deal(loans):
    deal = seed_deal(classes=[
        {"name": "A1", "face": "400000.00", "coupon": "5.0", "principal": "sequential", "priority": 1},
        {"name": "A2", "face": "300000.00", "coupon": "5.5", "principal": "sequential", "priority": 2},
        {"name": "M", "face": "200000.00", "coupon": "6.0", "principal": "sequential", "priority": 3},
        {"name": "B", "face": "100000.00", "coupon": "7.5", "principal": "sequential", "priority": 4},
    ], holders=[{"code": "INV-01", "class": "B", "face": "100000.00"}])
    trust = form(deal)
    assert [c.name for c in trust.classes.all()] == ["A1", "A2", "M", "B"]
    assert trust.classes.get(name="B").coupon == Decimal("7.5")


def test_rejections_are_reported_together_and_nothing_is_formed(loans):
    form(seed_deal(code="OTHER", loans=["L011"], classes=[{"name": "A", "face": "100000.00", "coupon": "net-wac"}],
                   holders=[]))
    with pytest.raises(DealRejected) as rejected:
        form(seed_deal(loans=["L001", "L011", "L999"]))
    assert rejected.value.problems == [
        "loans: loan L011 is already in trust OTHER",
        "loans: loan L999 is not boarded",
    ]
    with pytest.raises(DealRejected, match="faces add up to 1,000,000.00 but the pool's cut-off balance is 900,000.00"):
        form(seed_deal(loans=[f"L{i:03d}" for i in range(1, 10)]))
    assert not Trust.objects.filter(code="XYZ-2026-1").exists()


def test_overcollateralization_must_be_declared(loans):
    deal = seed_deal(classes=[{"name": "A", "face": "900000.00", "coupon": "net-wac"}],
                     holders=[], overcollateralized=True)
    assert form(deal).overcollateralized


def test_form_trust_command(loans, tmp_path, capsys):
    path = tmp_path / "deal.json"
    path.write_text(json.dumps(seed_deal()))
    call_command("form_trust", str(path))
    assert "formed XYZ-2026-1: 10 loans, 1 classes" in capsys.readouterr().out
    with pytest.raises(CommandError, match="trust XYZ-2026-1 already exists"):
        call_command("form_trust", str(path))


def test_overcollateralized_must_be_json_true_or_false(loans):
    """Regression: the string "false" was read as True and an under-issued deal formed as overcollateralized."""
    for value in ("false", "true", 1, None):
        deal = seed_deal(classes=[{"name": "A", "face": "900000.00", "coupon": "net-wac"}], holders=[],
                         overcollateralized=value)
        with pytest.raises(DealRejected) as rejected:
            form(deal)
        assert rejected.value.problems == [f"overcollateralized: {value!r} must be JSON true or false (without quotes)"]
    assert not Trust.objects.exists()
    assert not form(seed_deal(overcollateralized=False)).overcollateralized


def test_rates_with_more_decimals_than_kept_are_refused_not_rounded(loans):
    """Regression: "0.60005" was kept exact in the event and rounded to 0.6001 (or 0.6000) in the row."""
    deal = seed_deal(issuer_spread_rate="0.60005", purchase_price_percent="98.50001", classes=[
        {"name": "A", "face": "900000.00", "coupon": "5.12345", "principal": "sequential", "priority": 1},
        {"name": "B", "face": "100,000.00", "coupon": "6.0000", "principal": "sequential", "priority": 2}],
        holders=[])
    with pytest.raises(DealRejected) as rejected:
        form(deal)
    assert rejected.value.problems == [
        "issuer_spread_rate: '0.60005' has more than 4 decimals; issuer_spread_rate is kept with 4, and the value "
        "is refused rather than rounded",
        "purchase_price_percent: '98.50001' has more than 4 decimals; purchase_price_percent is kept with 4, and "
        "the value is refused rather than rounded",
        "class A coupon: '5.12345' has more than 4 decimals; class A coupon is kept with 4, and the value is "
        "refused rather than rounded",
    ]
    deal.update(issuer_spread_rate="0.6125", purchase_price_percent="98.5")
    deal["classes"][0]["coupon"] = "5.1234"
    trust = form(deal)
    assert trust.issuer_spread_rate == Decimal("0.6125") and trust.classes.get(name="A").coupon == Decimal("5.1234")
    assert trust.classes.get(name="B").original_face_cents == 10_000_000  # "100,000.00": grouped correctly


def test_faces_a_lenient_parser_took_are_refused(loans):
    deal = seed_deal()
    deal["classes"][0]["face"] = "1,000,000,00"
    deal["holders"][0]["face"] = "100000,00"
    deal["holders"][1]["face"] = "1.0E+5"
    with pytest.raises(DealRejected) as rejected:
        form(deal)
    problems = rejected.value.problems
    assert "class A face: '1,000,000,00' looks like a decimal comma; write dollars with a '.' before the cents " \
           "and commas only between thousands, like 1,234.56" in problems
    assert any(p.startswith("holders[0] INV-01 face: '100000,00' looks like a decimal comma") for p in problems)
    assert "holders[1] INV-02 face: '1.0E+5' is not an amount in dollars: write it in full, without an exponent" \
           in problems
    assert not Trust.objects.exists()


def test_an_unknown_loan_is_named_beside_the_files_own_problems(loans, tmp_path):
    """Regression: a loan not boarded was named only once the rest of the file was clean."""
    deal = seed_deal(loans=["L001", "L999", "L002", "bad loan", "L998"], overcollateralized="false")
    with pytest.raises(DealRejected) as rejected:
        form(deal)
    assert rejected.value.problems == [
        "overcollateralized: 'false' must be JSON true or false (without quotes)",
        "loans[3]: 'bad loan' is not a loan number (1-40 letters, digits, '-', '_' or '.')",
        "loans: loan L999 is not boarded",
        "loans: loan L998 is not boarded",
    ]
    path = tmp_path / "deal.json"
    path.write_text(json.dumps(deal))
    with pytest.raises(CommandError, match=r"(?s)deal.json: deal rejected.*\n  loans: loan L999 is not boarded"):
        call_command("form_trust", str(path))
    assert not Trust.objects.exists()
