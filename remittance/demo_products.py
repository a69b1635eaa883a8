"""The demo's loan products (issue 20): two ARMs, an interest-only loan and a balloon through the demo year.

Called from the demo command (remittance.management.commands.demo) at its three steps: boarding
(`board_and_form`: the loans from a tape with the product columns, the ARM pass-through trust
ARM-2026-1 formed from the ARMs and the interest-only loan), each month (`run_month`: that month's index
values loaded, the changes of terms due recorded as the daily task does, the month's payments: P101
misses June and July and catches up in August, across its first rate change; the balloon is paid off
at its maturity), and the books (`print_products`: every change of terms with its notices, and the ARM
trust's weighted note and net rate period by period, from its remittance reports).
"""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from ledger.actors import DEMO, TERMS_CHANGES
from ledger.domain.money import dollars
from ledger.domain.money import dollars_grouped as money
from ledger.models import Event
from remittance.models import PeriodResult
from remittance.selectors.reports import remittance_report
from servicing.domain.loan_tape import PRODUCT_COLUMNS, TAPE_COLUMNS
from servicing.domain.loan_terms import installment_split, steps_from_json, terms_on
from servicing.events import LoanTermsChanged
from servicing.models import Loan, LoanPosition
from servicing.services.boarding import tape_board
from servicing.services.payment_files import payment_file_import
from servicing.services.payoff import payoff_quote_get
from servicing.services.terms_changes import index_values_load, terms_changes_record
from trusts.services.forming import deal_file_form

TRUST = "ARM-2026-1"
TRUSTS = (TRUST,)
# number, balance, note rate, fee, product columns (product, amortization, interest only, then the arm_ ones).
LOANS = [
    ("P101", "240000.00", "5.5", "0.25", "2026-02-01", "2026-02-01", "360",
     "arm,,,SOFR30A,2.75,nearest_eighth,45,6,6,2,1,5,"),
    ("P102", "180000.00", "4", "0.25", "2026-02-01", "2026-02-01", "360",
     "arm,,,CMT1Y,2.25,up_eighth,30,3,3,1,1,5,3"),
    ("P103", "300000.00", "6.25", "0.375", "2026-02-01", "2026-02-01", "360", "fixed,,6,,,,,,,,,,"),
    ("P104", "150000.00", "7", "0.375", "2017-02-01", "2026-02-01", "120", "fixed,360,,,,,,,,,,,"),
]
POOL = ["P101", "P102", "P103"]
LATE, LATE_MONTHS = "P101", (date(2026, 6, 1), date(2026, 7, 1))  # misses these, catches up with August's
BALLOON = "P104"
# The indexes each month (published on the 10th): SOFR rising then easing, the CMT jumping once.
SOFR30A = ["4.31", "4.32", "4.35", "4.61", "4.92", "5.05", "5.10", "5.02", "4.88", "4.71", "4.60", "4.52"]
CMT1Y = ["4.05", "4.10", "4.20", "5.35", "5.40", "5.38", "5.30", "5.10", "4.90", "4.75", "4.70", "4.66"]


def tape() -> bytes:
    lines = [",".join((*TAPE_COLUMNS, *PRODUCT_COLUMNS))]
    for number, balance, rate, fee, first, due, term, product in LOANS:
        value = (Decimal(balance) * Decimal("1.25")).quantize(Decimal("0.01"))
        lines.append(f"{number},Borrower {number},{number[1:]} Oak St Springfield,residential,{value},{balance},,"
                     f"{rate},{term},{first},{due},{fee},200.00,false,{product}")
    return ("\n".join(lines) + "\n").encode()


def deal(pool_cents: int) -> bytes:
    return json.dumps({
        "code": TRUST, "name": "ARM Mortgage Trust 2026-1", "issuer": "XYZ Investment Bank", "servicer": "ABC Bank",
        "trustee": "Trustee Bank", "closing_date": "2026-01-15", "cutoff_date": "2026-01-15",
        "first_payment_date": "2026-03-25", "payment_day": 25, "issuer_spread_rate": "0.25",
        "remittance_type": "actual/actual", "purchase_price_percent": "100", "residual_holder": "XYZ",
        "loans": POOL, "classes": [{"name": "A", "face": dollars(pool_cents), "coupon": "net-wac",
                                    "principal": "pro-rata", "denomination": "0.01"}],
        "holders": [{"code": "INV-21", "name": "Investor 21", "class": "A", "face": dollars(pool_cents)}],
    }).encode()


def board_and_form(boarded_on: date) -> list[str]:
    """Board the product loans and form the ARM trust; the lines to print."""
    result = tape_board(raw=tape(), boarded_on=boarded_on, acting_user=DEMO)
    pool = sum(Loan.objects.get(pk=n).boarded_balance_cents for n in POOL)
    trust = deal_file_form(raw=deal(pool), acting_user=DEMO)
    return [f"boarded {len(result.boarded)} loan products: {', '.join(_described(n) for n in result.boarded)}",
            f"{trust.code}: {len(POOL)} loans ({', '.join(POOL)}), one net-WAC class of {money(pool)}"]


def _described(number: str) -> str:
    loan = Loan.objects.get(pk=number)
    kind = {"P101": "ARM 6/6 on SOFR30A", "P102": "ARM 3/3 on CMT1Y", "P103": "6 months interest only",
            "P104": "balloon, 120 months amortizing over 360"}[number]
    return f"{number} ({kind}, {loan.note_rate.normalize()}%, P&I {money(loan.payment_pi_cents)})"


def run_month(month: date, month_end: date) -> list[str]:
    """The month's index values, the changes of terms due at its end, and the product loans' payments."""
    index = month.month - 1 if month.year == 2026 else 11
    published = month.replace(day=10)
    index_values_load(raw=(f"index,date,percent\nSOFR30A,{published},{SOFR30A[index]}\n"
                           f"CMT1Y,{published},{CMT1Y[index]}\n").encode(), acting_user=DEMO, source="demo")
    notes, rows = [], ["loan_number,received_on,amount,reference"]
    for number, *_ in LOANS:
        position = LoanPosition.objects.get(loan_id=number)
        if position.is_closed or (number == LATE and month in LATE_MONTHS):
            continue
        if number == BALLOON and position.balloon_due_date == month:
            cents = payoff_quote_get(loan_number=number, as_of=month).total_cents
            notes.append(f"{number}'s balloon paid at maturity, {money(position.principal_balance_cents)}")
        else:
            cents = _installments_cents(position, through=month)
        rows.append(f"{number},{month.isoformat()},{dollars(cents)},PRODUCTS-{month:%Y%m}-{number}")
    payment_file_import(raw=("\n".join(rows) + "\n").encode(), today=month, acting_user=DEMO)
    if month == date(2026, 8, 1):
        notes.append(f"{LATE} pays June and July (old rate) with August (new rate)")
    recorded = terms_changes_record(as_of=month_end, acting_user=TERMS_CHANGES).recorded
    notes += [f"{f.loan_number} {f.reason.replace('_', ' ')}: {f.note_rate}% from {f.first_due_date}" for f in recorded]
    return notes


def _installments_cents(position: LoanPosition, *, through: date) -> int:
    """What the installments due from the next due date through `through` come to, each on its own terms."""
    balance, due, cents, steps = position.principal_balance_cents, position.next_due_date, 0, steps_from_json(
        position.terms_changes)
    while due <= through:
        rate, payment = terms_on(steps, due, position.note_rate, position.payment_pi_cents)
        interest, principal = installment_split(balance_cents=balance, note_rate=rate, payment_pi_cents=payment,
                                                due=due, balloon_due=position.balloon_due_date)
        cents += interest + principal + position.escrow_monthly_cents
        balance -= principal
        due += relativedelta(months=1)
    return cents


def print_products(line) -> None:
    """Every change of terms, then the ARM trust's rates period by period (`line` prints one line)."""
    line(f"{'loan':<6}{'change':<17}{'from':>11}{'rate':>17}{'P&I':>22}{'limited by':>13}{'notice (20(c))':>25}")
    changes = [LoanTermsChanged.from_payload(p) for p in Event.objects.filter(
        event_type=LoanTermsChanged.event_type).order_by("stream", "position").values_list("payload", flat=True)]
    for c in changes:
        line(f"{c.loan_number:<6}{c.reason:<17}{str(c.first_due_date):>11}"
             f"{f'{c.note_rate_before.normalize()} -> {c.note_rate.normalize()}':>17}"
             f"{f'{money(c.payment_pi_cents_before)} -> {money(c.payment_pi_cents)}':>22}{c.limited_by or '-':>13}"
             f"{f'{c.notice_from} to {c.notice_by}' if c.notice_from else '-':>25}")
    line(f"{TRUST}: the pool's weighted average note rate and the net rate passed through, by period")
    line(f"{'period':<8}{'note rate':>11}{'net rate':>10}{'pool balance':>15}")
    for result in PeriodResult.objects.filter(trust__code=TRUST).order_by("period"):
        pool = remittance_report(TRUST, result.period)["pool"]
        line(f"{result.period:<8}{pool['weighted_note_rate']:>11}{pool['weighted_net_rate']:>10}"
             f"{money(pool['balance_end_cents']):>15}")
