"""Reads for the borrower statements (selectors): the periodic statement of a billing cycle, the year's form
1098 figures and the annual escrow account statement, from the log as it stands.

The figures are worked out by `servicing.domain.borrower_statements`; this module gathers its inputs:
the loan's position on a day (`servicing.selectors.positions_as_of`, the one fold), the postings of its
payment events (what each payment went to: the ledger's own split, not a second computation), and its
events of the cycle for the activity list. An unknown loan, or a cycle before the loan was boarded or
not over yet, raises `StatementUnavailable` naming it.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Sum

from ledger import business_time
from ledger.models import Event, LogPosition, Posting
from servicing.domain import accounts
from servicing.domain.amortization import maturity_date, scheduled_split
from servicing.domain.borrower_statements import (
    AmountDue, EscrowStatement, Form1098, PaymentBreakdown, PeriodicStatement, Standing, Transaction, amount_due,
    delinquency, form_1098,
)
from servicing.domain.delinquency_status import days_delinquent, late_charge_cents
from servicing.events import (
    BorrowerRefundPaid, EscrowAnalyzed, EscrowDisbursed, LateChargeAssessed, LoanPaidOff, PaymentPosted,
    PaymentReturned, loan_fact,
)
from servicing.models import Loan, LoanPosition, loan_stream
from servicing.selectors import loan_positions_on, positions_as_of
from servicing.services.delinquency import late_charge_policy, unpaid_due_dates

# The events whose postings are money received from (or given back to) the borrower.
PAYMENT_EVENTS = (PaymentPosted.event_type, LoanPaidOff.event_type, PaymentReturned.event_type)
OPEN_STATUSES = ("active", "foreclosure", "reo")


class StatementUnavailable(ValueError):
    """The statement asked for cannot be made (the message says why)."""


# ------------------------------------------------------------------ the periodic statement


def periodic_statement(loan_number: str, cycle: str) -> PeriodicStatement:
    """The statement of a calendar-month billing cycle ("2026-05"), as of its last day."""
    loan = _loan(loan_number)
    first, last = _cycle(cycle)
    if last >= business_time.today():
        raise StatementUnavailable(f"the cycle {cycle} is not over yet (today is {business_time.today()})")
    if last < loan.boarded_on:
        raise StatementUnavailable(f"loan {loan_number} was boarded on {loan.boarded_on}, after the cycle {cycle}")
    head = LogPosition.objects.values_list("last_position", flat=True).get()
    position = positions_as_of([loan_number], day=last, through_position=head)[loan_number]
    standing = _standing(position)
    policy_percent, grace = late_charge_policy()
    maturity = maturity_date(first_payment_date=loan.first_payment_date, term_months=loan.term_months)
    due: AmountDue | None = None
    if standing.status in OPEN_STATUSES and standing.principal_balance_cents > 0:
        unpaid = len(unpaid_due_dates(position, last, maturity=maturity))
        interest, _principal = scheduled_split(balance_cents=standing.principal_balance_cents,
                                               note_rate=Decimal(position.note_rate),
                                               payment_cents=standing.payment_pi_cents)
        due = amount_due(standing, interest_cents=interest, grace_days=grace,
                         installments_unpaid=unpaid,
                         late_charge_cents=late_charge_cents(payment_pi_cents=standing.payment_pi_cents,
                                                             rate_percent=policy_percent))
    days = days_delinquent(next_due_date=standing.next_due_date, as_of=last) if due else 0
    return PeriodicStatement(
        loan_number=loan_number, borrower_name=loan.borrower.name, property_address=loan.property.address,
        cycle=cycle, statement_date=last + timedelta(days=1), amount_due=due,
        paid_this_cycle=paid_between(loan_number, first, last),
        paid_year_to_date=paid_between(loan_number, date(last.year, 1, 1), last),
        transactions=tuple(transactions(loan_number, first, last)), standing=standing,
        interest_rate_percent=f"{Decimal(position.note_rate).normalize():f}",
        delinquency=delinquency(days=days, since=standing.next_due_date,
                                history=_arrears_history(loan_number, last, maturity), standing=standing),
        bankruptcy_notice=standing.bankruptcy_chapter is not None,
    )


def paid_between(loan_number: str, first: date, last: date) -> PaymentBreakdown:
    """What the loan's payments dated in [first, last] went to, from their postings (returns negative)."""
    sums = dict(Posting.objects.filter(event__stream=loan_stream(loan_number), event__event_type__in=PAYMENT_EVENTS,
                                       effective_date__gte=first, effective_date__lte=last)
                .values("account").annotate(total=Sum("amount_cents")).values_list("account", "total"))

    def credited(*names: str) -> int:  # money received is credited to the loan's accounts: negative postings
        return -sum(sums.get(name, 0) for name in names)

    n = loan_number
    return PaymentBreakdown(principal_cents=credited(accounts.principal(n)), interest_cents=credited(accounts.interest(n)),
                            escrow_cents=credited(accounts.escrow(n), accounts.escrow_advance(n)),
                            fees_cents=credited(accounts.late_charges(n), accounts.fees(n)),
                            suspense_cents=credited(accounts.suspense(n)))


def transactions(loan_number: str, first: date, last: date) -> list[Transaction]:
    """The cycle's activity on the loan, in the order it was recorded."""
    events = Event.objects.filter(stream=loan_stream(loan_number), effective_date__gte=first,
                                  effective_date__lte=last).order_by("position")
    lines: list[Transaction] = []
    for event in events:
        lines.extend(_lines(event.effective_date, loan_fact(event)))
    return lines


def _lines(on: date, fact) -> list[Transaction]:
    if isinstance(fact, PaymentPosted):
        return [Transaction(on, f"Payment received ({fact.reference})", fact.amount_cents)]
    if isinstance(fact, LoanPaidOff):
        return [Transaction(on, f"Payoff received ({fact.reference})", fact.amount_cents)]
    if isinstance(fact, PaymentReturned):
        lines = [Transaction(on, f"Payment {fact.reference} returned: {fact.reason}", -fact.amount_cents)]
        return lines + ([Transaction(on, "Returned payment fee", -fact.fee_cents)] if fact.fee_cents else [])
    if isinstance(fact, LateChargeAssessed):
        return [Transaction(on, f"Late charge (installment due {fact.due_date})", -fact.amount_cents)]
    if isinstance(fact, EscrowDisbursed):
        return [Transaction(on, f"Paid from escrow: {fact.kind.replace('_', ' ')} to {fact.payee}", -fact.amount_cents)]
    if isinstance(fact, BorrowerRefundPaid):
        return [Transaction(on, "Refund paid to you", -fact.refund_cents)]
    return []


def _arrears_history(loan_number: str, last: date, maturity: date) -> list[tuple[str, int]]:
    """The arrears (installments unpaid, less suspense) at the end of each of the last six cycles."""
    ends = []
    day = last
    for _ in range(6):
        ends.insert(0, day)
        day = day.replace(day=1) - timedelta(days=1)
    head = LogPosition.objects.values_list("last_position", flat=True).get()
    history = []
    positions = loan_positions_on(loan_number, days=ends, through_position=head)
    for end in ends:
        position = positions.get(end)
        if position is None:
            continue
        unpaid = len(unpaid_due_dates(position, end, maturity=maturity))
        arrears = unpaid * (position.payment_pi_cents + position.escrow_monthly_cents) - position.suspense_cents
        history.append((f"{end:%Y-%m}", max(arrears, 0)))
    return history


# ------------------------------------------------------------------ form 1098


def form_1098_of(loan_number: str, year: int) -> Form1098:
    """The year's mortgage interest statement of one loan (the year must be over)."""
    loan = _loan(loan_number)
    if date(year, 12, 31) >= business_time.today():
        raise StatementUnavailable(f"the year {year} is not over yet")
    start = max(date(year, 1, 1), loan.boarded_on)
    # On the day it was boarded the tape's balance is there; on 1 January, what 31 December left.
    as_of = start if start == loan.boarded_on else start - timedelta(days=1)
    principal = Posting.objects.filter(account=accounts.principal(loan_number), effective_date__lte=as_of).aggregate(
        total=Sum("amount_cents"))["total"] or 0
    disbursed = [loan_fact(e) for e in Event.objects.filter(
        stream=loan_stream(loan_number), event_type=EscrowDisbursed.event_type, effective_date__year=year)]
    insurance = sum(d.amount_cents for d in disbursed if d.kind == "mortgage_insurance")
    return form_1098(loan_number=loan_number, year=year, borrower_name=loan.borrower.name,
                     property_address=loan.property.address,
                     interest_received_cents=paid_between(loan_number, date(year, 1, 1), date(year, 12, 31)).interest_cents,
                     principal_outstanding_cents=principal, principal_as_of=start, mortgage_insurance_cents=insurance)


def forms_1098(year: int) -> list[Form1098]:
    """Every loan serviced in the year (boarded by its end), its 1098 figures; `reportable` says which to file."""
    numbers = Loan.objects.filter(boarded_on__lte=date(year, 12, 31)).order_by("pk").values_list("pk", flat=True)
    return [form_1098_of(number, year) for number in numbers]


# ------------------------------------------------------------------ the annual escrow account statement


def escrow_statement(loan_number: str, year: int) -> EscrowStatement:
    """The escrow account over a calendar year: deposits, disbursements by item, balances, and the analysis."""
    _loan(loan_number)
    first, last = date(year, 1, 1), date(year, 12, 31)
    if last >= business_time.today():
        raise StatementUnavailable(f"the year {year} is not over yet")
    escrow = accounts.escrow(loan_number)

    def balance(on: date) -> int:  # the borrower's money is a credit: the balance is minus the postings
        return -(Posting.objects.filter(account=escrow, effective_date__lte=on)
                 .aggregate(total=Sum("amount_cents"))["total"] or 0)

    events = list(Event.objects.filter(stream=loan_stream(loan_number), effective_date__gte=first,
                                       effective_date__lte=last,
                                       event_type__in=(EscrowDisbursed.event_type, EscrowAnalyzed.event_type))
                  .order_by("position"))
    facts = [loan_fact(e) for e in events]
    by_kind: dict[str, int] = {}
    for fact in facts:
        if isinstance(fact, EscrowDisbursed):
            by_kind[fact.kind] = by_kind.get(fact.kind, 0) + fact.amount_cents
    analyses = [f for f in facts if isinstance(f, EscrowAnalyzed)]
    analysis = analyses[-1] if analyses else None
    return EscrowStatement(
        loan_number=loan_number, year_start=first, year_end=last, balance_start_cents=balance(first - timedelta(days=1)),
        deposits_cents=paid_between(loan_number, first, last).escrow_cents,
        disbursements=tuple(sorted(by_kind.items())),
        advanced_cents=sum(f.advanced_cents for f in facts if isinstance(f, EscrowDisbursed)),
        balance_end_cents=balance(last),
        new_monthly_escrow_cents=analysis.new_monthly_escrow_cents if analysis else None,
        shortage_cents=analysis.shortage_cents if analysis else 0,
        surplus_cents=analysis.surplus_cents if analysis else 0,
        surplus_refund_cents=analysis.surplus_refund_cents if analysis else 0)


# ------------------------------------------------------------------ shared


def _loan(loan_number: str) -> Loan:
    loan = Loan.objects.select_related("borrower", "property").filter(pk=loan_number).first()
    if loan is None:
        raise StatementUnavailable(f"no loan {loan_number!r}")
    return loan


def _cycle(text: str) -> tuple[date, date]:
    parts = text.split("-") if isinstance(text, str) else []
    if len(parts) != 2 or not all(p.isascii() and p.isdigit() for p in parts) or tuple(map(len, parts)) != (4, 2):
        raise StatementUnavailable(f"{text!r} is not a billing cycle; write it as YYYY-MM")
    year, month = int(parts[0]), int(parts[1])
    if not 1 <= month <= 12:
        raise StatementUnavailable(f"{text!r} is not a billing cycle; write it as YYYY-MM")
    first = date(year, month, 1)
    return first, (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _standing(position: LoanPosition) -> Standing:
    return Standing(
        principal_balance_cents=position.principal_balance_cents,
        deferred_principal_cents=position.deferred_principal_cents, next_due_date=position.next_due_date,
        payment_pi_cents=position.payment_pi_cents, escrow_monthly_cents=position.escrow_monthly_cents,
        suspense_cents=position.suspense_cents, late_charges_due_cents=position.late_charges_due_cents,
        fees_due_cents=position.fees_due_cents, status=str(position.status), loss_mitigation=position.loss_mitigation,
        bankruptcy_chapter=position.bankruptcy_chapter)
