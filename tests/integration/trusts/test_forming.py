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
