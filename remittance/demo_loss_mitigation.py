"""The demo's loss-mitigation borrower: forbearance, a repayment plan broken, a trial kept, a modification.

Loan L021 ($150,000 at 6.5%, not in any trust) is boarded with the others and walks, month by month,
through the steps a servicer takes with a borrower who lost their job in April 2026:
- April: a 3-month forbearance (payments suspended; no late charges on its months);
- end of June: the forbearance ends in a 3-month repayment plan (the arrears on top of the installment);
- September: a short payment breaks the plan (the loan is delinquent as before);
- October: a 3-month trial at $900.00 a month (held in suspense until a contractual installment is covered);
- January 2027: the trial kept, a permanent modification: arrears capitalized, 4% over 40 years, $10,000.00
  of principal set aside (non-interest-bearing, due at payoff) and $2,500.00 forgiven, asked for by one
  staff member and approved by another (four eyes; the approvals app sits above the demo's layer, so the
  demo calls the modification with both people, the check the approval's act runs).
Called from remittance.management.commands.demo: `board` at boarding, `month` in every month, `report` at the end.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from ledger.actors import DEMO
from ledger.domain.money import dollars_grouped as money
from ledger.models import Event
from servicing.events import RepaymentPlanStarted
from servicing.models import LoanPosition, loan_stream
from servicing.services import loss_mitigation as lm
from servicing.services.boarding import tape_board
from servicing.services.payments import payment_post
from servicing.domain.loan_tape import TAPE_COLUMNS

LOAN = "L021"
TAPE = (",".join(TAPE_COLUMNS) + "\n" + f"{LOAN},Borrower {LOAN},21 Elm St Springfield,residential,187500.00,"
        "150000.00,,6.5,360,2026-02-01,,0.25,300.00,false\n").encode()
TRIAL_PAYMENT = 90_000
MODIFICATION = lm.ModificationTerms(modified_on=date(2027, 1, 20), note_rate=Decimal("4"), term_months=480,
                                    first_payment_date=date(2027, 2, 1), principal_forbearance_cents=1_000_000,
                                    forgiven_cents=250_000)


def board(boarded_on: date) -> None:
    tape_board(raw=TAPE, boarded_on=boarded_on, acting_user=DEMO)


def month(first: date) -> list[str]:
    """This month's steps for L021 (the business day is the month's last); the notes the demo prints."""
    position = LoanPosition.objects.get(loan_id=LOAN)
    installment = position.payment_pi_cents + position.escrow_monthly_cents
    y, m = first.year, first.month
    if (y, m) in ((2026, 2), (2026, 3)):
        _pay(installment, first)
    elif (y, m) == (2026, 4):
        lm.forbearance_start(loan_number=LOAN, started_on=first, months=3, acting_user=DEMO)
        return [f"{LOAN} forbearance 3 months"]
    elif (y, m) == (2026, 6):
        lm.forbearance_end(loan_number=LOAN, ended_on=date(2026, 6, 30), resolution="repayment_plan",
                           repayment_months=3, acting_user=DEMO)
        return [f"{LOAN} forbearance ends: repayment plan"]
    elif (y, m) in ((2026, 7), (2026, 8), (2026, 9)):
        plan = lm.plan_schedule(_last(RepaymentPlanStarted))[1]
        _pay(plan[0] if m < 9 else installment, first)  # September short: the plan breaks
        if m == 9:
            lm.repayment_plan_end(loan_number=LOAN, ended_on=date(2026, 9, 30), acting_user=DEMO)
            return [f"{LOAN} repayment plan broken"]
    elif (y, m) == (2026, 10):
        lm.trial_start(loan_number=LOAN, started_on=date(2026, 10, 5), months=3, payment_cents=TRIAL_PAYMENT,
                       acting_user=DEMO)
        return [f"{LOAN} trial 3 x {money(TRIAL_PAYMENT)}"]
    elif (y, m) in ((2026, 11), (2026, 12), (2027, 1)):
        _pay(TRIAL_PAYMENT, first)
        if (y, m) == (2027, 1):
            lm.trial_end(loan_number=LOAN, ended_on=date(2027, 1, 5), acting_user=DEMO)
            clerk, checker = _staff()
            lm.loan_modify(loan_number=LOAN, terms=MODIFICATION, acting_user=checker, requested_by=clerk)
            return [f"{LOAN} trial kept, modified ({money(MODIFICATION.forgiven_cents)} forgiven, four eyes)"]
    return []


def report() -> list[str]:
    """L021's steps, as its events recorded them, and where it stands."""
    lines = []
    for event in Event.objects.filter(stream=loan_stream(LOAN)).order_by("version"):
        text = _described(event.event_type, event.payload)
        if text:
            lines.append(f"{event.effective_date.isoformat()}  {text}")
    p = LoanPosition.objects.get(loan_id=LOAN)
    lines.append(f"now: {p.loss_mitigation}, principal {money(p.principal_balance_cents)} at {p.note_rate.normalize()}%"
                 f", P&I {money(p.payment_pi_cents)}, next due {p.next_due_date.isoformat()}, deferred (no interest) "
                 f"{money(p.deferred_principal_cents)}, suspense {money(p.suspense_cents)}, realized loss "
                 f"{money(p.realized_loss_cents)}")
    return lines


def _described(event_type: str, p: dict) -> str:
    if event_type == "ForbearanceStarted":
        return f"forbearance for {p['months']} months: installments {', '.join(p['covered_due_dates'])} suspended"
    if event_type == "ForbearanceEnded":
        return f"forbearance ended: {p['resolution'].replace('_', ' ')}"
    if event_type == "RepaymentPlanStarted":
        return (f"repayment plan: arrears {money(p['arrears_cents'])} over {p['months']} months, "
                f"{money(p['amounts_cents'][0])} a month")
    if event_type in ("RepaymentPlanEnded", "TrialPlanEnded"):
        plan = "repayment plan" if event_type == "RepaymentPlanEnded" else "trial"
        return (f"{plan} {'kept' if p['kept'] else 'broken'}: {money(p['received_cents'][-1])} received of "
                f"{money(p['required_cents'][-1])}")
    if event_type == "TrialPlanStarted":
        return f"trial: {p['months']} payments of {money(p['payment_cents'])} due {', '.join(p['due_dates'])}"
    if event_type == "LoanModified":
        capitalized = p["missed_interest_cents"] + p["escrow_advance_cents"] + p["fees_cents"]
        return (f"modified: {len(p['missed_due_dates'])} installments' interest and fees capitalized "
                f"({money(capitalized)}), late charges waived ({money(p['late_charges_waived_cents'])}), "
                f"{money(p['principal_forbearance_cents'])} deferred, {money(p['forgiven_cents'])} forgiven "
                f"(asked by {p['requested_by']}, approved by {p['approved_by']}); "
                f"{money(p['principal_after_cents'])} at {p['note_rate']}% over {p['term_months']} months: "
                f"P&I {money(p['payment_pi_cents'])} from {p['first_payment_date']}, maturity {p['maturity_date']}")
    return ""


def _pay(cents: int, on: date) -> None:
    payment_post(loan_number=LOAN, amount_cents=cents, received_on=on, reference=f"LM-{on:%Y%m}-{LOAN}",
                 acting_user=DEMO)


def _last(cls):
    payload = (Event.objects.filter(stream=loan_stream(LOAN), event_type=cls.event_type).order_by("-version")
               .values_list("payload", flat=True).first())
    return cls.from_payload(payload)


def _staff():
    """Two staff logins: the clerk who asks, the checker who may approve (the approvals permission)."""
    users = get_user_model().objects
    clerk = users.get_or_create(username="demo-clerk", defaults={"is_staff": True})[0]
    checker = users.get_or_create(username="demo-checker", defaults={"is_staff": True})[0]
    checker.user_permissions.add(Permission.objects.get(content_type__app_label="approvals",
                                                        codename="approve_request"))
    return clerk, users.get(pk=checker.pk)  # fresh: no stale permission cache
