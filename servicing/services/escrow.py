"""Escrow: the bills a loan's escrow account pays, their daily disbursement, and the annual RESPA analysis.

Policies, and why:
- An escrow item recurs every year on the month and day of its due dates
  (taxes and premiums do), its annual amount split exactly over them with
  `ledger.domain.money.allocate` (earlier dates take the odd cents, as the
  analysis does). Its dates must lie within one year and not before the
  loan was boarded (earlier bills were the prior servicer's to pay).
- Disbursement (`escrow_disburse_due`, daily task "servicing.disburse_escrow")
  pays every installment due on or before the day and not paid before
  (idempotency key f"escrow:{loan}:{kind}:{due_date}"), for every loan not
  closed: in foreclosure and REO the servicer keeps paying to protect the
  property. What the escrow balance covers is paid from the custodial bank
  account (debit the loan's escrow, credit CUSTODIAL_CASH); the servicer
  advances the rest from its own cash (debit escrow_advance, credit
  CORPORATE_CASH). The payee is outside the books: the cash leaves, so
  ESCROW_PAYEES is not used.
- Analysis (`escrow_analysis_run`) feeds `servicing.domain.escrow_analysis` the
  loan's items moved into the computation year, the escrow balance net of
  any advance (an advance is a negative starting balance: the account is in
  deficiency) and whether the borrower is current (MBA bucket "current" on
  the day of the analysis). The new monthly escrow applies from the next
  installment; a refund (surplus of $50 or more, borrower current) is paid
  in the same event. Once per loan and computation year: a second run
  returns the recorded analysis.
- The position holds one escrow payment, the first of the year's twelve;
  when a shortage spread ends with a smaller last payment, the at most 11
  cents over-collected come back as surplus at the next analysis.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date

from dateutil.relativedelta import relativedelta
from django.db import transaction

from ledger.actors import Actor
from ledger.business_time import require_not_future, today
from ledger.models import Event
from ledger.domain.money import CentsError, allocate, require_cents
from ledger.domain.records import NewEvent, PostingLine
from ledger.services import append
from servicing.domain import accounts
from servicing.domain.delinquency_status import CURRENT, mba_bucket
from servicing.errors import ServicingError, UnknownLoan
from servicing.domain.escrow_analysis import EscrowAnalysisItem
from servicing.domain.escrow_analysis import analyze_escrow
from servicing.models import EscrowItem, Loan, LoanPosition, LoanStatus, loan_stream
from servicing.events import (
    AnalyzedItem, EscrowAnalyzed, EscrowDisbursed, EscrowInstallment, EscrowItemAdded, ProjectedMonth, loan_fact,
)
from servicing.services.loan_events import (
    append_at, dated_loan_fact, existing_keys, folded, open_position, require_status, with_retries,
)


class EscrowItemRefused(ServicingError):
    """An escrow item with a bad kind, payee, amount or dates, or one the loan already has."""

    def __init__(self, loan_number: str, reason: str):
        super().__init__(f"loan {loan_number}: escrow item refused: {reason}")


class EscrowAnalysisRefused(ServicingError):
    """An escrow analysis that cannot be run on this loan for this year."""

    def __init__(self, loan_number: str, reason: str):
        super().__init__(f"loan {loan_number}: escrow analysis refused: {reason}")


# ---- items -----------------------------------------------------------------------------------------


@transaction.atomic
def escrow_item_add(*, loan_number: str, kind: str, payee: str, annual_amount_cents: int, due_dates,
                    added_on: date | None = None, acting_user: Actor) -> EscrowItem:
    """Add a bill to the loan's escrow account: an EscrowItemAdded event, whose projection writes the EscrowItem.

    `due_dates` are dates or ISO strings within one year; they recur every year. Returns the item's row.
    """
    dates = _checked_item(loan_number, kind, payee, annual_amount_cents, due_dates)
    dated = dated_loan_fact(loan_number, "escrow item added on", added_on or today())

    def attempt():
        position = open_position(loan_number, action="add an escrow item to")
        if EscrowItem.objects.filter(loan_id=loan_number, kind=kind).exists():
            raise EscrowItemRefused(loan_number, f"it already has a {kind.replace('_', ' ')} item")
        boarded_on = Loan.objects.values_list("boarded_on", flat=True).get(loan_number=loan_number)
        if dates[0] < boarded_on:
            raise EscrowItemRefused(loan_number, f"due date {dates[0].isoformat()} is before the loan was "
                                    f"boarded on {boarded_on.isoformat()}")
        added = EscrowItemAdded(
            kind=kind, payee=payee.strip(), annual_amount_cents=annual_amount_cents, due_dates=tuple(dates),
            installments=tuple(EscrowInstallment(d, a)
                               for d, a in zip(dates, allocate(annual_amount_cents, [1] * len(dates)))),
        )
        append_at(position, [added.new_event(effective_date=dated.on, idempotency_key=f"escrow-item:{loan_number}:{kind}")],
                  acting_user, dated.still_holds)
        return EscrowItem.objects.get(loan_id=loan_number, kind=kind)

    return with_retries(attempt)


def _checked_item(loan_number, kind, payee, annual_amount_cents, due_dates) -> list[date]:
    if kind not in EscrowItem.Kind.values:
        raise EscrowItemRefused(loan_number, f"kind {kind!r} is not one of {', '.join(EscrowItem.Kind.values)}")
    if not isinstance(payee, str) or not payee.strip() or len(payee.strip()) > 200:
        raise EscrowItemRefused(loan_number, "the payee needs a name of 1 to 200 characters")
    try:
        require_cents(annual_amount_cents, "annual amount", zero=False)
    except CentsError as error:
        raise EscrowItemRefused(loan_number, str(error)) from None
    if isinstance(due_dates, (str, bytes)) or not due_dates:
        raise EscrowItemRefused(loan_number, "give at least one due date")
    dates = []
    for raw in due_dates:
        try:
            day = raw if isinstance(raw, date) and not hasattr(raw, "hour") else date.fromisoformat(raw)
        except (TypeError, ValueError):
            raise EscrowItemRefused(loan_number, f"due date {raw!r} is not an ISO date (YYYY-MM-DD)") from None
        dates.append(day)
    dates.sort()
    if len(set(dates)) != len(dates):
        raise EscrowItemRefused(loan_number, "a due date is listed twice")
    if dates[-1] >= dates[0] + relativedelta(years=1):
        raise EscrowItemRefused(loan_number, "due dates must fall within one year (they recur every year)")
    if annual_amount_cents < len(dates):
        raise EscrowItemRefused(loan_number, "the annual amount is less than a cent per due date")
    return dates


def item_installments(item: EscrowItem, *, through: date) -> list[tuple[date, int]]:
    """(due date, amount) of every installment of the item due on or before `through`, year after year."""
    dates = sorted(date.fromisoformat(d) for d in item.due_dates)
    amounts = allocate(item.annual_amount_cents, [1] * len(dates))
    found, year = [], 0
    while dates[0] + relativedelta(years=year) <= through:
        found.extend((d + relativedelta(years=year), a) for d, a in zip(dates, amounts)
                     if d + relativedelta(years=year) <= through)
        year += 1
    return found


# ---- disbursement ----------------------------------------------------------------------------------


@dataclass
class DisbursementResult:
    as_of: date
    disbursed: int = 0
    amount_cents: int = 0
    advanced_cents: int = 0
    loans: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {**asdict(self), "as_of": self.as_of.isoformat()}


def escrow_disburse_due(*, as_of: date, acting_user: Actor) -> DisbursementResult:
    """Pay every escrow installment due on or before `as_of` and not yet paid, loan by loan.

    Each loan commits on its own; the idempotency keys make a rerun pay only what is left.
    """
    require_not_future("escrow disbursement as of", as_of)
    result = DisbursementResult(as_of=as_of)
    loan_numbers = sorted(set(EscrowItem.objects.values_list("loan_id", flat=True)))
    for loan_number in loan_numbers:
        recorded = loan_escrow_disburse_due(loan_number=loan_number, as_of=as_of, acting_user=acting_user)
        for event in recorded:
            paid = loan_fact(event)
            result.disbursed += 1
            result.amount_cents += paid.amount_cents
            result.advanced_cents += paid.advanced_cents
        if recorded:
            result.loans.append(loan_number)
    return result


@transaction.atomic
def loan_escrow_disburse_due(*, loan_number: str, as_of: date, acting_user: Actor) -> list:
    """Pay one loan's escrow installments due on or before `as_of` not paid before; returns the events."""
    require_not_future(f"escrow disbursement of loan {loan_number} as of", as_of)
    def attempt():
        position = LoanPosition.objects.filter(loan_id=loan_number).first()
        if position is None:
            raise UnknownLoan(loan_number)
        if position.is_closed:
            return []  # a closed loan has no escrow account left to pay from
        events = _disbursement_events(position, as_of)
        if not events:
            return []
        return append(stream=loan_stream(loan_number), expected_version=position.stream_version,
                      events=events, acting_user=acting_user)

    return with_retries(attempt)


def _disbursement_events(position: LoanPosition, as_of: date) -> list[NewEvent]:
    loan_number = position.loan_id
    due = sorted(
        (day, item.kind, item.payee, amount)
        for item in EscrowItem.objects.filter(loan_id=loan_number)
        for day, amount in item_installments(item, through=as_of)
    )
    keys = [f"escrow:{loan_number}:{kind}:{day.isoformat()}" for day, kind, _, _ in due]
    paid = existing_keys(keys)
    events = []
    for (day, kind, payee, amount), key in zip(due, keys):
        if key in paid:
            continue
        from_escrow = min(position.escrow_balance_cents, amount)
        advanced = amount - from_escrow
        disbursed = EscrowDisbursed(kind=kind, payee=payee, due_date=day, amount_cents=amount,
                               from_escrow_cents=from_escrow, advanced_cents=advanced)
        lines = [(accounts.escrow(loan_number), from_escrow), (accounts.CUSTODIAL_CASH, -from_escrow),
                 (accounts.escrow_advance(loan_number), advanced), (accounts.CORPORATE_CASH, -advanced)]
        events.append(disbursed.new_event(effective_date=as_of, idempotency_key=key,
                                          postings=tuple(PostingLine(a, c) for a, c in lines if c)))
        position = folded(position, disbursed)
    return events


# ---- annual analysis -------------------------------------------------------------------------------


@dataclass(frozen=True)
class EscrowAnalysisRecord:
    """An analysis as its EscrowAnalyzed event records it (or would, for a preview)."""

    loan_number: str
    analysis: EscrowAnalyzed
    recorded: bool  # False for a preview
    already_recorded: bool = False

    @property
    def payload(self) -> dict:
        """The analysis as its event's payload holds it (for JSON answers)."""
        return self.analysis.to_payload()


def analysis_key(loan_number: str, computation_year_start: date) -> str:
    return f"escrow-analysis:{loan_number}:{computation_year_start.isoformat()}"


def escrow_analysis_preview(*, loan_number: str, computation_year_start: date,
                            analyzed_on: date | None = None) -> EscrowAnalysisRecord:
    """What escrow_analysis_run would record today, without recording anything."""
    position = open_position(loan_number, action="analyse the escrow of")
    analyzed = _analysis(position, computation_year_start, analyzed_on or today())
    return EscrowAnalysisRecord(loan_number=loan_number, analysis=analyzed, recorded=False)


@transaction.atomic
def escrow_analysis_run(*, loan_number: str, computation_year_start: date, analyzed_on: date | None = None,
                        acting_user: Actor) -> EscrowAnalysisRecord:
    """Run and record the annual escrow analysis (EscrowAnalyzed), paying any refund; once per year."""
    dated = dated_loan_fact(loan_number, "escrow analysis on", analyzed_on or today())
    analyzed_on = dated.on
    key = analysis_key(loan_number, computation_year_start)

    def attempt():
        before = Event.objects.filter(idempotency_key=key).values_list("payload", flat=True).first()
        if before is not None:
            # As the current class reads it (an analysis recorded at version 1 comes upcast).
            return EscrowAnalysisRecord(loan_number, EscrowAnalyzed.from_payload(before), recorded=True,
                                        already_recorded=True)
        position = open_position(loan_number, action="analyse the escrow of")
        analyzed = _analysis(position, computation_year_start, analyzed_on)
        refund = analyzed.surplus_refund_cents
        postings = ((PostingLine(accounts.escrow(loan_number), refund),
                     PostingLine(accounts.CUSTODIAL_CASH, -refund)) if refund else ())
        append_at(position, [analyzed.new_event(effective_date=analyzed_on, idempotency_key=key, postings=postings)],
                  acting_user, dated.still_holds)
        return EscrowAnalysisRecord(loan_number, analyzed, recorded=True)

    return with_retries(attempt)


def _analysis(position: LoanPosition, start: date, analyzed_on: date) -> EscrowAnalyzed:
    loan_number = position.loan_id
    require_status(position, action="analyse the escrow of", allowed=(LoanStatus.ACTIVE, LoanStatus.FORECLOSURE))
    _check_year_start(position, start)
    items = list(EscrowItem.objects.filter(loan_id=loan_number).order_by("kind"))
    if not items:
        raise EscrowAnalysisRefused(loan_number, "it has no escrow items; add its taxes and insurance first")
    bucket = mba_bucket(next_due_date=position.next_due_date, as_of=analyzed_on)
    opening = position.escrow_balance_cents - position.escrow_advance_cents
    analysis = analyze_escrow(
        escrow_balance_cents=opening, computation_year_start=start, borrower_current=bucket == "current",
        items=[EscrowAnalysisItem(name=i.kind, annual_amount_cents=i.annual_amount_cents,
                                     disbursement_dates=_dates_in_year(i, start)) for i in items],
    )
    refund = analysis.surplus_refund_cents
    if refund > position.escrow_balance_cents:  # only possible with a cushion under 12 cents
        raise EscrowAnalysisRefused(loan_number, f"a refund of {refund} cents exceeds the escrow held")
    figures = {k: v for k, v in asdict(analysis).items()
               if k not in ("computation_year_start", "projection", "monthly_escrow_payments_cents")}
    return EscrowAnalyzed(
        computation_year_start=start, analyzed_on=analyzed_on, delinquency_bucket=bucket,
        borrower_current=bucket == CURRENT, escrow_balance_cents=position.escrow_balance_cents,
        escrow_advance_cents=position.escrow_advance_cents,
        previous_monthly_escrow_cents=position.escrow_monthly_cents,
        items=tuple(AnalyzedItem(kind=i.kind, payee=i.payee, annual_amount_cents=i.annual_amount_cents,
                                 disbursement_dates=_dates_in_year(i, start)) for i in items),
        **figures,
        monthly_escrow_payments_cents=tuple(analysis.monthly_escrow_payments_cents),
        projection=tuple(ProjectedMonth(month_start=m.month_start, deposit_cents=m.deposit_cents,
                                        disbursements_cents=m.disbursements_cents,
                                        balance_cents_closing=m.balance_cents_closing) for m in analysis.projection),
    )


def _check_year_start(position: LoanPosition, start: date) -> None:
    if start.day != position.next_due_date.day:
        raise EscrowAnalysisRefused(position.loan_id, f"the computation year must start on an installment due "
                                    f"date (day {position.next_due_date.day}), not {start.isoformat()}")
    if start < position.next_due_date:
        raise EscrowAnalysisRefused(position.loan_id, f"installments before {position.next_due_date.isoformat()} "
                                    f"are already paid; the year cannot start on {start.isoformat()}")


def _dates_in_year(item: EscrowItem, start: date) -> tuple[date, ...]:
    """The item's due dates moved by whole years into the computation year [start, start + 12 months)."""
    moved = []
    for raw in item.due_dates:
        day = date.fromisoformat(raw)
        shifted = day + relativedelta(years=start.year - day.year)
        moved.append(shifted if shifted >= start else shifted + relativedelta(years=1))
    return tuple(sorted(moved))
