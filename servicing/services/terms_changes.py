"""Loan products over time: index values loaded from a file, and the changes of terms recorded when due.

- `index_values_load`: a file of (index, date, percent) appended as IndexValueRecorded events on the
  `index:<name>` streams, all or nothing. A value already recorded for the same day is skipped (a
  re-run is harmless); a different value for that day is refused naming both; future dates are refused.
- `terms_changes_record`: as of a business date (never a future one), every ARM rate change and every
  end of an interest-only period that is due to be recorded (servicing.domain.terms_changes: from the
  look-back day for an ARM, 120 days before the first installment for an interest-only end), in order,
  each once (idempotency key `terms:<loan>:<first due date>`). A change is recorded ahead of its first
  installment: the position keeps it on its terms timeline, so installments due before it (however late
  they are paid) stay at the old terms and those from it take the new ones.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import transaction

from ledger.actors import Actor
from ledger.business_time import BusinessDateError, require_not_future, today
from ledger.models import Event
from ledger.services import append
from servicing.domain.arm import value_in_effect
from servicing.domain.index_file import parse_index_file
from servicing.domain.terms_changes import ARM_RESET, DueChange, decide, figures_of, scheduled_changes
from servicing.errors import DateRefused, FileRejected, RowProblem, ServicingError
from servicing.events import IndexValueRecorded, LoanBoarded, LoanModified, LoanTermsChanged
from servicing.models import CLOSED_STATUSES, IndexValue, Loan, LoanPosition, index_stream, loan_stream
from servicing.services.loan_events import append_at, dated_loan_fact, with_retries


@dataclass
class IndexLoadResult:
    recorded: int = 0
    already_recorded: int = 0


@transaction.atomic
def index_values_load(*, raw: bytes, acting_user: Actor, source: str = "") -> IndexLoadResult:
    """Record every value of an index file, or none (FileRejected lists every bad row)."""
    rows, problems = parse_index_file(raw, today=today())
    held = {(v.index, v.on): v.percent for v in IndexValue.objects.filter(
        index__in={r.index for r in rows}, on__in={r.on for r in rows})}
    result, new = IndexLoadResult(), []
    for row in rows:
        before = held.get((row.index, row.on))
        if before is None:
            new.append(row)
        elif before == row.percent:
            result.already_recorded += 1
        else:
            problems.append(RowProblem(row.line, f"{row.index} on {row.on} is already recorded as {before}%; "
                                                 f"{row.percent}% is refused (a published value does not change)"))
    if problems:
        raise FileRejected("index values file", sorted(problems, key=lambda p: p.line))
    for row in sorted(new, key=lambda r: (r.index, r.on)):
        fact = IndexValueRecorded(index=row.index, on=row.on, percent=row.percent, source=source[:200])
        append(stream=index_stream(row.index), expected_version=None, acting_user=acting_user,
               events=[fact.new_event(effective_date=row.on, idempotency_key=f"index:{row.index}:{row.on}")])
        result.recorded += 1
    return result


@dataclass
class TermsChangesResult:
    as_of: date
    recorded: list[LoanTermsChanged] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # changes due whose index value is not loaded yet
    refused: list[str] = field(default_factory=list)  # a loan's change its dated rules refuse (the others go on)


def terms_changes_record(*, as_of: date, acting_user: Actor) -> TermsChangesResult:
    """Record every change of terms due by `as_of` on every open ARM and interest-only loan (each once)."""
    try:
        require_not_future("the terms changes' date", as_of)
    except BusinessDateError as refused:
        raise DateRefused(str(refused)) from None
    result = TermsChangesResult(as_of)
    numbers = list(Loan.objects.filter(product="arm").values_list("pk", flat=True)) + list(
        Loan.objects.filter(product="fixed", interest_only_months__gt=0).values_list("pk", flat=True))
    boarded = {e.stream.split(":", 1)[1]: LoanBoarded.from_payload(e.payload) for e in Event.objects.filter(
        stream__in=[loan_stream(n) for n in numbers], event_type=LoanBoarded.event_type).only("stream", "payload")}
    for number in sorted(numbers):
        try:
            loan_terms_changes_record(boarded[number], as_of=as_of, acting_user=acting_user, result=result)
        except ServicingError as refused:
            result.refused.append(str(refused))
    return result


def loan_terms_changes_record(boarding: LoanBoarded, *, as_of: date, acting_user: Actor,
                              result: TermsChangesResult) -> None:
    """One loan's changes due by `as_of`, in order; stops at one whose index value is not known yet."""
    number = boarding.loan_number
    for change in scheduled_changes(boarding.loan_terms, boarding.first_payment_date):
        if change.recordable_on > as_of:
            return
        position = LoanPosition.objects.get(loan_id=number)
        if position.status in CLOSED_STATUSES or _modified(number):
            return  # a modification's terms replace the note's for good: no change the note scheduled follows
        if Event.objects.filter(idempotency_key=_key(number, change)).exists():
            continue
        index = None
        if change.reason == ARM_RESET:
            arm = boarding.loan_terms.arm
            assert arm is not None  # an ARM change is only scheduled for an ARM
            values = dict(IndexValue.objects.filter(index=arm.index, on__lte=change.recordable_on)
                          .order_by("-on").values_list("on", "percent")[:1])
            index = value_in_effect(values, change.recordable_on)
            if index is None:
                result.waiting.append(f"loan {number}: no {arm.index} value on or before "
                                      f"{change.recordable_on} for the change of {change.change_date}")
                return
        dated = dated_loan_fact(number, "change of terms", as_of)
        fact = with_retries(lambda change=change, index=index, dated=dated: _record(
            boarding, change, index, as_of, acting_user, dated.still_holds))
        result.recorded.append(fact)


def _modified(number: str) -> bool:
    return Event.objects.filter(stream=loan_stream(number), event_type=LoanModified.event_type).exists()


def _record(boarding: LoanBoarded, change: DueChange, index: tuple[date, Decimal] | None, as_of: date,
            acting_user: Actor, still_holds) -> LoanTermsChanged:
    position = LoanPosition.objects.get(loan_id=boarding.loan_number)
    decision = decide(change, terms=boarding.loan_terms, initial_rate=boarding.note_rate,
                      figures=figures_of(position), index_value=index[1] if index else None)
    notices = decision.notices
    arm = boarding.loan_terms.arm
    fact = LoanTermsChanged(
        loan_number=boarding.loan_number, reason=change.reason, change_date=change.change_date,
        first_due_date=change.first_due_date, first_installment=change.first_installment,
        note_rate_before=decision.note_rate_before, note_rate=decision.note_rate,
        payment_pi_cents_before=decision.payment_pi_cents_before, payment_pi_cents=decision.payment_pi_cents,
        scheduled_balance_cents=decision.scheduled_balance_cents,
        index=arm.index if arm and index else "", index_date=index[0] if index else None,
        index_value=index[1] if index else None, fully_indexed_rate=decision.fully_indexed_rate,
        limited_by=decision.limited_by,
        notice_from=notices.notice_from if notices else None, notice_by=notices.notice_by if notices else None,
        initial_notice_from=notices.initial_notice_from if notices else None,
        initial_notice_by=notices.initial_notice_by if notices else None,
    )
    append_at(position, [fact.new_event(effective_date=as_of, idempotency_key=_key(boarding.loan_number, change))],
              acting_user, still_holds)
    return fact


def _key(number: str, change: DueChange) -> str:
    return f"terms:{number}:{change.first_due_date.isoformat()}"
