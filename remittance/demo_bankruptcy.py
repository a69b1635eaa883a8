"""The demo's bankruptcy story (issue 20), told after the year: one borrower's chapter 13 case and its stay.

A loan outside the trusts (so the year's closes are untouched) is boarded in
February 2027. Its borrower pays March on time and April late (a late charge),
files chapter 13 in May and keeps paying late: while the automatic stay holds,
the aging assesses no late charge and foreclosure is refused. The plan is
confirmed, the dashboard's default-servicing states are printed, the case is
dismissed in July, and the next late installment is charged again. Every step
runs through the real services on its own business day, and verify_ledger
(the demo's last section) re-derives it all.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date

from ledger.actors import DEMO
from ledger.business_time import business_day
from ledger.domain.money import dollars_grouped as money
from remittance.selectors.dashboard import default_servicing_states
from servicing.domain.loan_tape import TAPE_COLUMNS
from servicing.errors import ServicingError
from servicing.events import LateChargeAssessed, loan_fact
from servicing.models import LoanPosition
from servicing.services.bankruptcy import bankruptcy_end, bankruptcy_file, bankruptcy_plan_confirm
from servicing.services.boarding import tape_board
from servicing.services.default import foreclosure_start
from servicing.services.delinquency import loan_age
from servicing.services.payments import payment_post

LOAN, CASE = "L022", "27-10234"
COURT = "U.S. Bankruptcy Court, District of Springfield"
TERMS = {"loan_number": LOAN, "borrower_name": "Borrower L022", "property_address": "22 Elm St Springfield",
         "property_type": "residential", "property_value": "250000.00", "original_balance": "200000.00",
         "current_balance": "", "note_rate": "6.5", "term_months": "360", "first_payment_date": "2027-03-01",
         "next_due_date": "", "servicing_fee_rate": "0.25", "escrow_monthly": "400.00", "autopay": "false"}
# (day, what happens): payments received, the daily aging (the day after March-July's grace ends), the case.
STORY = (
    (date(2027, 3, 1), "pay"), (date(2027, 4, 17), "age"), (date(2027, 4, 20), "pay"),
    (date(2027, 5, 5), "file"), (date(2027, 5, 17), "age"), (date(2027, 5, 25), "pay"),
    (date(2027, 6, 1), "foreclose"), (date(2027, 6, 10), "confirm"), (date(2027, 6, 17), "age"),
    (date(2027, 6, 22), "pay"), (date(2027, 6, 23), "states"), (date(2027, 7, 15), "dismiss"),
    (date(2027, 7, 17), "age"), (date(2027, 7, 20), "pay"), (date(2027, 7, 21), "states"),
)


def bankruptcy_story(line: Callable[[str], None]) -> None:
    """Run the story, printing each step through `line`."""
    raw = (",".join(TAPE_COLUMNS) + "\n" + ",".join(TERMS[c] for c in TAPE_COLUMNS) + "\n").encode()
    with business_day(date(2027, 2, 1)):
        tape_board(raw=raw, boarded_on=date(2027, 2, 1), acting_user=DEMO)
    line(f"{LOAN} boarded 2027-02-01 outside the trusts: $200,000 at 6.5%, first due 2027-03-01")
    for day, step in STORY:
        with business_day(day):
            line(f"{day:%m-%d} {_step(step, day)}")


def _step(step: str, day: date) -> str:
    p = LoanPosition.objects.get(loan_id=LOAN)
    if step == "pay":
        cents = p.payment_pi_cents + p.escrow_monthly_cents
        payment_post(loan_number=LOAN, amount_cents=cents, received_on=day, reference=f"{LOAN}-{day:%Y%m%d}",
                     acting_user=DEMO)
        due = LoanPosition.objects.get(loan_id=LOAN).next_due_date
        return f"pays the installment of {money(cents)} (next due {due})" + (
            ": accepted during the case" if p.bankruptcy_chapter else "")
    if step == "age":
        charged = [loan_fact(e) for e in loan_age(loan_number=LOAN, as_of=day, acting_user=DEMO)
                   if e.event_type == LateChargeAssessed.event_type]
        p = LoanPosition.objects.get(loan_id=LOAN)
        what = (", ".join(f"late charge {money(c.amount_cents)} on the {c.due_date} installment" for c in charged)
                or "no late charge" + (" (the automatic stay)" if p.bankruptcy_chapter else ""))
        return f"aging: bucket {p.delinquency_bucket}, {what}; late charges due {money(p.late_charges_due_cents)}"
    if step == "file":
        bankruptcy_file(loan_number=LOAN, chapter=13, case_number=CASE, court=COURT, filed_on=day, acting_user=DEMO)
        return f"the borrower files chapter 13, case {CASE}, {COURT}: the automatic stay starts"
    if step == "foreclose":
        try:
            foreclosure_start(loan_number=LOAN, started_on=day, acting_user=DEMO)
        except ServicingError as refused:
            return f"foreclosure refused: {refused}"
        raise AssertionError("foreclosure should have been stayed")
    if step == "confirm":
        bankruptcy_plan_confirm(loan_number=LOAN, case_number=CASE, confirmed_on=day, acting_user=DEMO)
        return "the court confirms the chapter 13 plan"
    if step == "dismiss":
        bankruptcy_end(loan_number=LOAN, case_number=CASE, outcome="dismissed", ended_on=day, acting_user=DEMO)
        return f"case {CASE} dismissed: the stay ends"
    rows = default_servicing_states()
    shown = "; ".join(f"{r.state.label}: {r.loans} ({money(r.unpaid_cents)})" for r in rows if r.loans)
    return f"dashboard, default servicing: {shown + ' (the other states 0)' if shown else 'no loan in any state'}"
