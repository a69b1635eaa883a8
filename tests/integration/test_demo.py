"""`make demo` runs the demo command: it must keep working and keep the seed's figures.

One run of the demo (a year of servicing and 24 closes) is shared by the
checks below; each reads the printed output or the database it left.
"""
import pytest
from django.core.management import call_command

from remittance.models import ClassPeriod, Distribution, PeriodResult, PeriodStatus, TrustPeriod
from trusts.models import PoolLoan, SecurityClass

PERIODS = [f"2026-{m:02d}" for m in range(2, 13)] + ["2027-01"]


def lines_of(out: str) -> list[list[str]]:
    return [line.split() for line in out.splitlines()]


@pytest.mark.django_db
def test_demo_runs_a_year_end_to_end_and_the_ledger_verifies(capsys):
    call_command("demo")
    out = capsys.readouterr().out
    rows = lines_of(out)

    # Boarding and forming.
    assert "boarded 10 loans; level payment 599.55 + escrow 250.00; re-running the tape boards 0 more" in out
    assert "boarded 10 more loans (L011-L020)" in out
    assert "XYZ-2026-1: 10 loans bought at 98.5%, class A 1,000,000.00 net-WAC, 10 holders of 100,000.00 each" in out
    seq_faces = SecurityClass.objects.filter(trust__code="SEQ-2026-1").order_by("priority")
    assert [(c.name, c.priority, c.principal_rule) for c in seq_faces] == [
        ("A1", 1, "sequential"), ("A2", 2, "sequential"), ("M", 3, "sequential"), ("B", 4, "sequential")]
    pool = sum(PoolLoan.objects.filter(trust__code="SEQ-2026-1").values_list("cutoff_balance_cents", flat=True))
    assert sum(c.original_face_cents for c in seq_faces) == pool  # to the cent

    # The seed's month 1, exactly as DESIGN.md section 3 has it.
    assert ["2026-02", "2026-03-25", "5,000.00", "995.50", "500.00", "500.00", "4,995.50", "0.00", "0.00",
            "0.99900450"] in rows
    assert ("month 1 (2026-02): interest 5,000.00 - servicing fee 500.00 - spread 500.00 = 4,000.00 interest "
            "to holders") in out
    assert "+ principal 995.50 = paid to holders 4,995.50: 10 investors receive 499.55 each" in out
    assert ("INV-01's first payment from XYZ-2026-1 class A: 499.55 for 2026-02, paid 2026-03-25 "
            "(400.00 interest + 99.55 principal)") in out
    first = Distribution.objects.get(holder__code="INV-01", security_class__trust__code="XYZ-2026-1", period="2026-02")
    assert (first.interest_cents, first.principal_cents) == (40_000, 9_955)
    seed_month_one = PeriodResult.objects.get(trust__code="XYZ-2026-1", period="2026-02")
    assert (seed_month_one.interest_collected_cents, seed_month_one.servicing_fee_cents,
            seed_month_one.issuer_spread_cents, seed_month_one.paid_to_holders_cents) == (
        500_000, 50_000, 50_000, 499_550)

    # Every period of both trusts closed, in order, and reconciled.
    for code in ("XYZ-2026-1", "SEQ-2026-1"):
        assert (f"{code}: closed 12 of 12 periods, 2026-02 to 2027-01 (every period closed); "
                f"12 reconciled to the cent") in out
        closed = TrustPeriod.objects.filter(trust__code=code, status=PeriodStatus.CLOSED).order_by("period")
        assert [p.period for p in closed] == PERIODS
        assert list(PeriodResult.objects.filter(trust__code=code).order_by("period")
                    .values_list("period", flat=True)) == PERIODS
    assert not TrustPeriod.objects.exclude(status=PeriodStatus.CLOSED).exists()

    # The liquidation's loss.
    assert "L004  liquidated" in out
    assert "2026-09: L004's liquidation lost 31,527.28, written off class A" in out
    assert PeriodResult.objects.get(trust__code="XYZ-2026-1", period="2026-09").realized_loss_cents == 3_152_728
    assert any(r[:2] == ["2026-09", "2026-10-26"] and r[8] == "31,527.28" for r in rows if len(r) == 10)

    # The sequential deal: A1 paid down, and principal crossing from A1 into A2 within one month.
    a1 = {r.period: r for r in ClassPeriod.objects.filter(security_class__trust__code="SEQ-2026-1",
                                                          security_class__name="A1")}
    a2 = {r.period: r for r in ClassPeriod.objects.filter(security_class__trust__code="SEQ-2026-1",
                                                          security_class__name="A2")}
    crossing = [p for p in PERIODS if a1[p].balance_end_cents == 0 and a1[p].principal_paid_cents
                and a2[p].principal_paid_cents]
    assert len(crossing) == 1
    assert all(a2[p].principal_paid_cents == 0 for p in PERIODS if p < crossing[0])
    assert a1["2027-01"].balance_end_cents == 0 and a1["2026-02"].balance_end_cents > 0
    assert f"class A1 paid down: balance 0.00 from {crossing[0]}" in out
    assert f"{crossing[0]}: principal" in out and "paid A1 off with" in out and "crossed into A2 with" in out

    # The ledger verifies.
    assert "ledger verified:" in out and "no problems" in out
