"""The demo's structured deals (issue 21): an agency PAC/support/Z deal and a private-label deal with
triggers, over-collateralisation, a reserve account and a trustee fee, through the demo year.

Called from the demo command (remittance.management.commands.demo) at its steps: boarding
(`board_and_form`: the agency deal from its files in docs/deals/, its tape and its deal file, whose
PAC schedule was built from that tape at 90 and 300 PSA by `manage.py project_deal --pac-schedule`;
the private-label deal from a tape and a deal file made here; both formed through the deal-file
service), each month (`run_month`: the borrowers' payments, with PAC-2026-1's payoffs running faster
than the PAC band's upper speed so that its support class takes them, a payoff in PLS-2026-1's
step-down period, and two of its borrowers stopping in August, which fails its 60+ delinquency
trigger), and the books (`print_structures`: each class's balance
period by period, the PAC's against its schedule, the Z's accretion, and the private-label deal's
trustee fee, over-collateralisation, reserve and trigger tests, all read from the closes' records).
"""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

from ledger.actors import DEMO
from ledger.domain.money import dollars
from ledger.domain.money import dollars_grouped as money
from remittance.models import PeriodResult
from servicing.domain.loan_tape import TAPE_COLUMNS
from servicing.models import Loan, LoanPosition
from servicing.services.boarding import tape_board
from servicing.services.payment_files import payment_file_import
from servicing.services.payoff import payoff_quote_get
from trusts.models import SecurityClass, Trust
from trusts.selectors import deal_structure
from trusts.services.forming import deal_file_form

DEALS = Path(__file__).resolve().parent.parent / "docs" / "deals"
# The agency deal's files as an operator receives them: the tape and the deal file, its PAC schedule
# built from that tape at 90 and 300 PSA (`manage.py project_deal --tape ... --cutoff 2026-01-15 --pac-schedule 90,300`).
CMO_TAPE_FILE, CMO_DEAL_FILE = DEALS / "agency-pac-2026-1-tape.csv", DEALS / "agency-pac-2026-1.json"
CMO, PLS = "PAC-2026-1", "PLS-2026-1"
TRUSTS = (CMO, PLS)
CMO_LOANS = [f"L{100 + i}" for i in range(1, 13)]
# PLS-2026-1's loans: number, balance, note rate, servicing fee rate.
PLS_TAPE = [(f"S{200 + i}", f"{150_000 + 17_500 * i}.00", "7", "0.375") for i in range(1, 13)]
PLS_LOANS = [row[0] for row in PLS_TAPE]
# PAC-2026-1 prepays fast: a payoff in each of these months (well above 300 PSA for a 12-loan pool).
CMO_PAYOFFS = {date(2026, 4, 1): "L103", date(2026, 6, 1): "L107", date(2026, 9, 1): "L110",
               date(2026, 11, 1): "L105"}
# PLS-2026-1: a payoff in July, the step-down period (its principal paid pro rata, above what the
# over-collateralisation releases); two borrowers stop paying in August (60+ days delinquent at
# September's end, failing the delinquency test: sequential from then on, the trigger being sticky).
PLS_PAYOFFS = {date(2026, 7, 1): "S203"}
PLS_STOPPED, PLS_STOP_MONTH = ("S205", "S209"), date(2026, 8, 1)


def pls_tape() -> bytes:
    lines = [",".join(TAPE_COLUMNS)]
    for number, balance, rate, fee in PLS_TAPE:
        value = (Decimal(balance) * Decimal("1.25")).quantize(Decimal("0.01"))
        lines.append(f"{number},Borrower {number},{number[1:]} Cedar St Springfield,residential,{value},{balance},,"
                     f"{rate},360,2026-02-01,,{fee},0.00,false")
    return ("\n".join(lines) + "\n").encode()


def _thousands(cents: int) -> int:
    return cents // 100_000 * 100_000


def pls_deal(pool_cents: int) -> bytes:
    """The private-label deal: senior A, mezzanine M and subordinate B on 97% of the pool (3% OC)."""
    a, m = _thousands(pool_cents * 80 // 100), _thousands(pool_cents * 10 // 100)
    b = _thousands(pool_cents * 97 // 100) - a - m
    classes = [{"name": name, "face": dollars(face), "coupon": coupon, "principal": "sequential", "priority": p}
               for name, face, coupon, p in (("A", a, "5.5", 1), ("M", m, "6", 2), ("B", b, "6.5", 3))]
    holders = [{"code": f"INV-4{i}", "name": f"Investor 4{i}", "class": c["name"], "face": c["face"]}
               for i, c in enumerate(classes, start=1)]
    return json.dumps({
        "code": PLS, "name": "PLS Mortgage Trust 2026-1", "issuer": "XYZ Investment Bank", "servicer": "ABC Bank",
        "trustee": "Trustee Bank", "closing_date": "2026-01-15", "cutoff_date": "2026-01-15",
        "first_payment_date": "2026-03-25", "payment_day": 25, "issuer_spread_rate": "0",
        "remittance_type": "actual/actual", "purchase_price_percent": "100", "residual_holder": "XYZ", "overcollateralized": True, "loans": PLS_LOANS,
        "classes": classes, "holders": holders, "trustee_fee_rate": "0.02",
        "waterfall": ["trustee_fee", "servicing_fee", "spread", "interest", "reserve_draw", "principal", "losses",
                      "turbo", "reserve_deposit", "excess"],
        "triggers": {"stepdown_period": 6, "cumulative_loss": [{"from_period": 1, "percent": "1"}],
                     "delinquency_60_percent": "12", "sticky": True},
        "overcollateralization": {"target_percent": "3", "stepdown_target_percent": "2.5", "floor_percent": "0.5"},
        "reserve_account": {"target": "15000.00", "initial_deposit": "5000.00"},
        "cleanup_call_percent": "10",
    }).encode()


def board_and_form(boarded_on: date) -> list[str]:
    """Board both pools and form both trusts; the lines to print."""
    boarded = tape_board(raw=CMO_TAPE_FILE.read_bytes(), boarded_on=boarded_on, acting_user=DEMO).boarded
    boarded += tape_board(raw=pls_tape(), boarded_on=boarded_on, acting_user=DEMO).boarded
    pool = sum(Loan.objects.get(pk=n).boarded_balance_cents for n in PLS_LOANS)
    lines = [f"boarded {len(boarded)} loans for the structured deals ({CMO_LOANS[0]}-{CMO_LOANS[-1]} from "
             f"docs/deals/{CMO_TAPE_FILE.name}, {PLS_LOANS[0]}-{PLS_LOANS[-1]})"]
    for raw in (CMO_DEAL_FILE.read_bytes(), pls_deal(pool)):
        trust = deal_file_form(raw=raw, acting_user=DEMO)
        classes = SecurityClass.objects.filter(trust=trust).order_by("priority", "name")
        lines.append(f"{trust.code}: pool {money(trust_pool_cents(trust))}; " + ", ".join(
            f"{c.name} {c.kind} {money(c.original_face_cents)}" for c in classes))
    return lines


def trust_pool_cents(trust) -> int:
    return sum(trust.pool.values_list("cutoff_balance_cents", flat=True))


def run_month(month: date) -> list[str]:
    """The structured pools' payments for the month (one lockbox file); the month's notes."""
    notes, rows = [], ["loan_number,received_on,amount,reference"]
    for number in CMO_LOANS + PLS_LOANS:
        position = LoanPosition.objects.get(loan_id=number)
        if position.is_closed or (number in PLS_STOPPED and month >= PLS_STOP_MONTH):
            continue
        cents = position.payment_pi_cents + position.escrow_monthly_cents
        if number in (CMO_PAYOFFS.get(month), PLS_PAYOFFS.get(month)):
            quote = payoff_quote_get(loan_number=number, as_of=month)
            cents = quote.total_cents
            notes.append(f"{number} pays off {money(quote.principal_cents)}")
        rows.append(f"{number},{month.isoformat()},{dollars(cents)},STRUCT-{month:%Y%m}-{number}")
    payment_file_import(raw=("\n".join(rows) + "\n").encode(), today=month, acting_user=DEMO)
    if month == PLS_STOP_MONTH:
        notes.append(f"{' and '.join(PLS_STOPPED)} stop paying")
    return notes


def print_structures(line) -> None:
    """Both deals period by period, from the closes' records (`line` prints one line)."""
    _print_agency(line)
    _print_private_label(line)


def _closes(code: str) -> list:
    return [r.period_closed for r in PeriodResult.objects.filter(trust__code=code).order_by("period")]


def _print_agency(line) -> None:
    pac = deal_structure(Trust.objects.get(code=CMO)).features_of("PA")
    line(f"{CMO}: the PAC against its schedule (band {'-'.join(map(str, pac.band or ()))} PSA), the "
         "support taking the prepayments, the Z accreting, the IO's notional following the PAC")
    line(f"{'period':<8}{'PA balance':>15}{'PA schedule':>15}{'S balance':>14}{'Z balance':>13}{'Z accrued':>11}"
         f"{'PX notional':>15}{'prepaid':>13}")
    for closed in _closes(CMO):
        c = {x.class_name: x for x in closed.classes}
        prepaid = closed.collected["curtailment"] + closed.collected["payoff_principal"]
        line(f"{closed.period:<8}{money(c['PA'].balance_end_cents):>15}"
             f"{money(pac.scheduled_balance(closed.period_number)):>15}{money(c['S'].balance_end_cents):>14}"
             f"{money(c['Z'].balance_end_cents):>13}{money(c['Z'].interest_accrued_cents):>11}"
             f"{money(c['PX'].balance_end_cents):>15}{money(prepaid):>13}")


def _print_private_label(line) -> None:
    line(f"{PLS}: senior A, mezzanine M and subordinate B; trustee fee, over-collateralisation (OC) against its "
         "target, the reserve account, and the triggers tested each period (step-down at period 6)")
    line(f"{'period':<8}{'#':>3}{'A balance':>14}{'M balance':>13}{'B balance':>13}{'trustee':>9}{'OC':>11}"
         f"{'OC target':>11}{'reserve':>11}{'cum loss':>9}{'60+':>8}{'tests':>7}  principal")
    for closed in _closes(PLS):
        c = {x.class_name: x for x in closed.classes}
        t = closed.triggers
        line(f"{closed.period:<8}{closed.period_number:>3}{money(c['A'].balance_end_cents):>14}"
             f"{money(c['M'].balance_end_cents):>13}{money(c['B'].balance_end_cents):>13}"
             f"{money(closed.trustee_fee_paid_cents):>9}{money(closed.oc_end_cents):>11}"
             f"{money(closed.oc_target_cents):>11}{money(closed.reserve_balance_end_cents):>11}"
             f"{_percent(t.cumulative_loss_percent) if t else '-':>9}{_percent(t.delinquency_60_percent) if t else '-':>8}"
             f"{('FAIL' if t.failed else 'pass') if t else '-':>7}  {t.principal_rule if t else '-'}")


def _percent(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}%"
