"""`make demo` runs the demo command: it must keep working, keep the seed's figures, and print what the books hold.

One run of the demo (a year of servicing and 24 closes) is shared by the
checks below. What it prints is checked against the books it left (the
Distribution rows, the period results, the ledger's accounts and events) and
against the report code it prints through, never against text copied from
its own output; the seed's first month is also checked against the worked
example of docs/DESIGN.md section 3.
"""
import hashlib
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import F, Sum

from ledger.domain.hashing import _plain, canonical_json_bytes, content_of, sealed_form
from ledger.models import Event
from ledger.selectors import recorded_events
from ledger.projections import registry
from ledger.domain.money import dollars_grouped as money
from ledger.selectors import account_balance
from remittance.models import (
    ClassPeriod,
    Distribution,
    PeriodResult,
    PeriodStatus,
    TrustPeriod,
)
from remittance.domain.report_formats import report_table, statement_table
from remittance.selectors.reports import investor_statement, remittance_report
from remittance.selectors.period_summary import summary_lines
from servicing.models import Loan, LoanPosition
from trusts.models import PoolLoan, SecurityClass, Trust
from trusts.selectors import deal_structure

SEED, SEQ, INVESTOR = "XYZ-2026-1", "SEQ-2026-1", "INV-01"
PERIODS = [f"2026-{m:02d}" for m in range(2, 13)] + ["2027-01"]


def section(out: str, number: int) -> str:
    """The text of the demo's numbered section, without its heading."""
    start = out.index(f"\n{number}. ")
    end = out.find(f"\n{number + 1}. ", start)
    return out[out.index("\n", start + 1):end if end >= 0 else len(out)]


def rows_by_period(text: str) -> dict[str, list[str]]:
    """The table rows of a section keyed by their first cell (a period, "total", "face" or a loan number)."""
    return {cells[0]: cells for cells in (line.split() for line in text.splitlines()) if cells}


def printed(text: str, block: str) -> bool:
    """Whether `block` (a report's text) was printed as it is, line after line, indented like the demo's lines."""
    lines = [line.rstrip() for line in text.splitlines()]
    wanted = [f"   {line}".rstrip() for line in block.splitlines()]
    return any(lines[i:i + len(wanted)] == wanted for i in range(len(lines)))


def paid_to_holders(trust: str, period: str | None = None) -> int:
    rows = Distribution.objects.filter(security_class__trust__code=trust)
    if period:
        rows = rows.filter(period=period)
    return rows.aggregate(total=Sum(F("interest_cents") + F("principal_cents")))["total"] or 0


@pytest.mark.django_db
def test_demo_runs_a_year_end_to_end_prints_the_books_and_the_ledger_verifies(capsys):
    call_command("demo")
    out = capsys.readouterr().out

    # Boarding and forming: the loans the books hold, at their own level payment.
    l001 = Loan.objects.get(loan_number="L001")
    assert f"boarded {Loan.objects.filter(loan_number__lte='L010').count()} loans; level payment " \
           f"{money(l001.payment_pi_cents)}" in out
    seq_faces = SecurityClass.objects.filter(trust__code=SEQ).order_by("priority")
    assert [(c.name, c.priority, c.principal_rule) for c in seq_faces] == [
        ("A1", 1, "sequential"), ("A2", 2, "sequential"), ("M", 3, "sequential"), ("B", 4, "sequential")]
    pool = sum(PoolLoan.objects.filter(trust__code=SEQ).values_list("cutoff_balance_cents", flat=True))
    assert sum(c.original_face_cents for c in seq_faces) == pool  # to the cent

    # The seed's month 1 in the books, exactly as DESIGN.md section 3 has it.
    seed_month_one = PeriodResult.objects.get(trust__code=SEED, period="2026-02")
    assert (seed_month_one.interest_collected_cents, seed_month_one.servicing_fee_cents,
            seed_month_one.issuer_spread_cents, seed_month_one.paid_to_holders_cents) == (
        500_000, 50_000, 50_000, 499_550)
    first = Distribution.objects.get(holder__code=INVESTOR, security_class__trust__code=SEED, period="2026-02")
    assert (first.interest_cents, first.principal_cents) == (40_000, 9_955)
    # ... printed as the remittance_report command prints it.
    assert printed(out, report_table(remittance_report(SEED, "2026-02")))

    # Every period of both trusts closed, in order; each trust's table is its books, period by period.
    for code, number, table_ends in ((SEED, 5, "its first period"), (SEQ, 6, "each class's balance")):
        closed = TrustPeriod.objects.filter(trust__code=code, status=PeriodStatus.CLOSED).order_by("period")
        assert [p.period for p in closed] == PERIODS
        results = {r.period: r for r in PeriodResult.objects.filter(trust__code=code)}
        assert sorted(results) == PERIODS
        assert (f"{code}: closed {len(closed)} of {len(PERIODS)} periods, {PERIODS[0]} to {PERIODS[-1]} "
                f"(every period closed); {len(results)} reconciled to the cent") in out
        table = rows_by_period(section(out, number).split(table_ends)[0])
        for period, r in results.items():
            paid_on, fee, spread, to_holders, excess, loss, factor = (table[period][i] for i in (1, 4, 5, 6, 7, 8, 9))
            assert paid_on == r.payment_date.isoformat()
            assert (fee, spread, excess, loss) == (money(r.servicing_fee_cents), money(r.issuer_spread_cents),
                                                   money(r.excess_cents), money(r.realized_loss_cents))
            assert to_holders == money(paid_to_holders(code, period)) == money(r.paid_to_holders_cents)
            assert factor == f"{r.pool_factor:.8f}"
        assert table["total"][5] == money(paid_to_holders(code))
    assert not TrustPeriod.objects.exclude(status=PeriodStatus.CLOSED).exists()

    # The liquidation's loss: the loan's own position, and the close's summary of the period that took it.
    loans = rows_by_period(section(out, 4))
    l004 = LoanPosition.objects.get(loan_id="L004")
    assert (loans["L004"][1], loans["L004"][-1]) == (l004.status, money(l004.realized_loss_cents)) == (
        "liquidated", "31,527.28")
    liquidation = PeriodResult.objects.get(trust__code=SEED, realized_loss_cents__gt=0)
    assert (liquidation.period, liquidation.realized_loss_cents) == ("2026-09", l004.realized_loss_cents)
    assert printed(out, "\n".join(summary_lines(liquidation)))

    # The sequential deal: A1 paid down, principal crossing from A1 into A2 within one month, as printed.
    a1 = {r.period: r for r in ClassPeriod.objects.filter(security_class__trust__code=SEQ, security_class__name="A1")}
    a2 = {r.period: r for r in ClassPeriod.objects.filter(security_class__trust__code=SEQ, security_class__name="A2")}
    crossing = [p for p in PERIODS if a1[p].balance_end_cents == 0 and a1[p].principal_paid_cents
                and a2[p].principal_paid_cents]
    assert len(crossing) == 1
    assert all(a2[p].principal_paid_cents == 0 for p in PERIODS if p < crossing[0])
    assert a1["2027-01"].balance_end_cents == 0 and a1["2026-02"].balance_end_cents > 0
    classes = rows_by_period(section(out, 6).split("each class's balance")[1])
    for period in PERIODS:
        assert classes[period][1:5] == [money(a1[period].balance_end_cents), f"{a1[period].factor:.8f}",
                                        money(a2[period].balance_end_cents), f"{a2[period].factor:.8f}"]
    one, two = a1[crossing[0]].principal_paid_cents, a2[crossing[0]].principal_paid_cents
    assert (f"{crossing[0]}: principal {money(one + two)} (with L020's payoff) paid A1 off with {money(one)} and "
            f"crossed into A2 with {money(two)}") in out
    assert f"class A1 paid down: balance 0.00 from {crossing[0]}" in out

    # The investor: its first statement as the investor_statement command prints it; each period's total is its
    # Distribution rows, and the year's total is the cash the ledger holds for it.
    assert printed(out, statement_table(investor_statement(INVESTOR, "2026-02")))
    investor = rows_by_period(section(out, 7))
    for period in PERIODS:
        paid = Distribution.objects.filter(holder__code=INVESTOR, period=period)
        assert investor[period][-1] == money(sum(d.total_cents for d in paid))
    assert investor["total"][-1] == money(account_balance(f"holder:{INVESTOR}:cash"))
    assert account_balance(f"holder:{INVESTOR}:cash") == sum(
        d.total_cents for d in Distribution.objects.filter(holder__code=INVESTOR)) > 0

    # Issue 20's chapter 13 story: no late charge for the installments whose grace ended in the stay.
    charged = sorted(e.payload["due_date"] for e in Event.objects.filter(stream="loan:L022",
                                                                         event_type="LateChargeAssessed"))
    assert charged == ["2027-04-01", "2027-07-01"] and LoanPosition.objects.get(loan_id="L022").bankruptcy_chapter is None
    assert "foreclosure refused: loan L022: cannot start foreclosure on 2027-06-01: the automatic stay" in out
    counts = next(line for line in out.splitlines() if "dashboard, default servicing:" in line)
    assert "in bankruptcy, chapter 13: 1 (" in counts and "modified: 1 (" in counts  # L021's modification too

    # Issue 21's structured deals, as the closes recorded them and as section 11 prints them.
    structures = section(out, 11)
    agency = rows_by_period(structures.split("PLS-2026-1:")[0])
    pac = deal_structure(Trust.objects.get(code="PAC-2026-1")).features_of("PA")
    closes = {r.period: r.period_closed for r in PeriodResult.objects.filter(trust__code="PAC-2026-1")}
    for period, closed in closes.items():
        line = {c.class_name: c for c in closed.classes}
        assert agency[period][1:3] == [money(line["PA"].balance_end_cents),
                                       money(pac.scheduled_balance(closed.period_number))]
        # The IO's notional is the PAC's balance; the Z accretes while the classes ahead are outstanding.
        assert line["PX"].balance_end_cents == line["PA"].balance_end_cents
        assert line["Z"].interest_accrued_cents > 0
        if closed.collected["payoff_principal"]:  # a payoff month: the PAC exactly on its schedule
            assert line["PA"].balance_end_cents == pac.scheduled_balance(closed.period_number)
    assert closes["2026-11"].class_line("S").balance_end_cents == 0  # the support took the prepayments
    rules = [PeriodResult.objects.get(trust__code="PLS-2026-1", period=p).period_closed.triggers.principal_rule
             for p in PERIODS]
    assert rules == ["sequential"] * 5 + ["pro-rata"] * 2 + ["sequential"] * 5  # step-down 6; 60+ fails in 8
    private = rows_by_period(structures.split("PLS-2026-1:")[1])
    assert [private[p][-1] for p in PERIODS] == rules and private["2026-09"][-2] == "FAIL"

    # The ledger verifies, every event of it.
    assert f"ledger verified: {Event.objects.count()} events on" in out and "no problems" in out
    # ... and each hash is the one the standard library's canonical JSON gives (every event ever sealed
    # was hashed over it), though orjson wrote it: the fast path taken for every event, byte for byte.
    for event in recorded_events(Event.objects.order_by("position")):
        sealed = sealed_form(
            previous_hash=event.previous_hash, position=event.position, version=event.version,
            content=content_of(stream=event.stream, event_type=event.event_type, payload=event.payload,
                               effective_date=event.effective_date, postings=event.postings),
            recorded_at=event.recorded_at, acting_user_id=event.acting_user_id, idempotency_key=event.idempotency_key)
        stdlib = json.dumps(sealed, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        assert _plain(sealed) and canonical_json_bytes(sealed) == stdlib, event.position
        assert hashlib.sha256(stdlib).hexdigest() == event.hash, event.position

    # The log is the single truth: every read model the demo filled, the loans, trusts, classes and
    # holders included, is emptied and rebuilt from the log, and comes back row for row.
    before = {p.name: p.snapshot() for p in registry}
    assert all(before["servicing.loans"].values()) and all(before["trusts.reference"].values())
    call_command("rebuild_projections", stdout=StringIO())
    assert {p.name: p.snapshot() for p in registry} == before
