"""Bankruptcy: a borrower's cases recorded on the loan's stream, and the automatic stay they impose.

The rules of a case are `servicing.domain.bankruptcy`'s; this module reads a
loan's cases from its stream (`loan_cases`), checks each new fact's date by
the one business-time rule (not in the future, not before boarding, not in a
closed period of the loan's trust) and appends it. Every refusal names the loan
and the date and records nothing.

The automatic stay, while a case is open and no relief from it was granted:
- foreclosure cannot start or proceed (`require_no_stay`, called by
  servicing.services.default for a foreclosure start, an REO acquisition and a
  liquidation sale);
- no late charge is assessed for an installment whose grace period ended while
  the stay was in effect (servicing.services.delinquency; the bucket still
  moves, since delinquency is reported, not collected);
- payments are still accepted: a chapter 13 borrower keeps paying.
"""
from __future__ import annotations

from datetime import date

from django.db import transaction

from ledger.actors import Actor
from ledger.domain.records import RecordedEvent
from ledger.models import Event
from servicing.domain.bankruptcy import DISCHARGED, DISMISSED, BankruptcyRefused, Case, Cases
from servicing.errors import ServicingError
from servicing.events import (
    BANKRUPTCY_EVENTS, BankruptcyDischarged, BankruptcyDismissed, BankruptcyFiled, BankruptcyPlanConfirmed,
    LoanFact, ReliefFromStayGranted, loan_fact,
)
from servicing.models import loan_stream
from servicing.services.loan_events import append_at, dated_loan_fact, open_position, with_retries

BANKRUPTCY_EVENT_TYPES = tuple(c.event_type for c in BANKRUPTCY_EVENTS)


class BankruptcyFactRefused(ServicingError):
    """A bankruptcy fact the loan's cases (or its dates) do not allow."""

    def __init__(self, loan_number: str, reason: str):
        super().__init__(f"loan {loan_number}: {reason}")


class StayInEffect(ServicingError):
    """A collection action the automatic stay forbids on its date."""

    def __init__(self, loan_number: str, action: str, on: date, case: Case):
        super().__init__(f"loan {loan_number}: cannot {action} on {on.isoformat()}: the automatic stay of "
                         f"{case.describe()} is in effect until the case ends or relief from the stay is granted")


# ---- reads -------------------------------------------------------------------------------------------


def cases_after(cases: Cases, fact: LoanFact) -> Cases:
    """The loan's cases after a bankruptcy fact (the domain's rules; BankruptcyRefused if they refuse it)."""
    if isinstance(fact, BankruptcyFiled):
        return cases.filed(case_number=fact.case_number, chapter=fact.chapter, court=fact.court,
                           filed_on=fact.filed_on)
    if isinstance(fact, BankruptcyPlanConfirmed):
        return cases.plan_confirmed(case_number=fact.case_number, on=fact.on)
    if isinstance(fact, ReliefFromStayGranted):
        return cases.relief_granted(case_number=fact.case_number, on=fact.on)
    if isinstance(fact, (BankruptcyDischarged, BankruptcyDismissed)):
        outcome = DISCHARGED if isinstance(fact, BankruptcyDischarged) else DISMISSED
        return cases.ended(case_number=fact.case_number, outcome=outcome, on=fact.on)
    raise ValueError(f"{fact.event_type} is not a bankruptcy fact")


def loan_cases(loan_number: str) -> Cases:
    """The loan's bankruptcy cases, from its stream's bankruptcy events (one query)."""
    cases = Cases()
    for event in (Event.objects.filter(stream=loan_stream(loan_number), event_type__in=BANKRUPTCY_EVENT_TYPES)
                  .order_by("version").only("event_type", "payload")):
        cases = cases_after(cases, loan_fact(event))
    return cases


def require_no_stay(loan_number: str, *, on: date, action: str) -> None:
    """Refuse a collection action (a foreclosure step) dated on a day the automatic stay is in effect."""
    case = loan_cases(loan_number).stay_on(on)
    if case is not None:
        raise StayInEffect(loan_number, action, on, case)


# ---- writers -----------------------------------------------------------------------------------------


def bankruptcy_file(*, loan_number: str, chapter: int, case_number: str, court: str, filed_on: date,
                    acting_user: Actor) -> RecordedEvent:
    """Record the borrower's bankruptcy filing (chapter 7 or 13): the automatic stay starts on `filed_on`."""
    return _record(loan_number, "bankruptcy filing", filed_on, acting_user, lambda: BankruptcyFiled(
        case_number=case_number.strip(), chapter=chapter, court=court.strip(), filed_on=filed_on))


def bankruptcy_plan_confirm(*, loan_number: str, case_number: str, confirmed_on: date,
                            acting_user: Actor) -> RecordedEvent:
    """Record the court's confirmation of the chapter 13 plan of the open case."""
    return _record(loan_number, "chapter 13 plan confirmation", confirmed_on, acting_user,
                   lambda: BankruptcyPlanConfirmed(case_number=case_number.strip(), on=confirmed_on))


def bankruptcy_relief_grant(*, loan_number: str, case_number: str, granted_on: date,
                            acting_user: Actor) -> RecordedEvent:
    """Record relief from the automatic stay: foreclosure may go on, the case stays open."""
    return _record(loan_number, "relief from the stay", granted_on, acting_user,
                   lambda: ReliefFromStayGranted(case_number=case_number.strip(), on=granted_on))


def bankruptcy_end(*, loan_number: str, case_number: str, outcome: str, ended_on: date,
                   acting_user: Actor) -> RecordedEvent:
    """Record the open case discharged or dismissed: the stay ends, the position's case is cleared."""
    kinds = {DISCHARGED: BankruptcyDischarged, DISMISSED: BankruptcyDismissed}
    if outcome not in kinds:
        raise BankruptcyFactRefused(loan_number, f"a case ends {DISCHARGED} or {DISMISSED}, not {outcome!r}")
    return _record(loan_number, f"bankruptcy {outcome}", ended_on, acting_user,
                   lambda: kinds[outcome](case_number=case_number.strip(), on=ended_on))


# The steps staff record (the admin's form and the `bankruptcy` command), by name, with their words.
FILED, PLAN_CONFIRMED, RELIEF_GRANTED = "filed", "plan_confirmed", "relief_granted"
STEPS = {FILED: "filed", PLAN_CONFIRMED: "chapter 13 plan confirmed", RELIEF_GRANTED: "relief from the stay granted",
         DISCHARGED: "discharged", DISMISSED: "dismissed"}


def bankruptcy_step(*, loan_number: str, step: str, case_number: str, on: date, chapter: int | None = None,
                    court: str = "", acting_user: Actor) -> RecordedEvent:
    """Record one step of a case by its name in STEPS (a filing needs its chapter and court)."""
    if step == FILED:
        if chapter is None:
            raise BankruptcyFactRefused(loan_number, "a bankruptcy filing needs its chapter (7 or 13)")
        return bankruptcy_file(loan_number=loan_number, chapter=chapter, case_number=case_number, court=court,
                               filed_on=on, acting_user=acting_user)
    if step == PLAN_CONFIRMED:
        return bankruptcy_plan_confirm(loan_number=loan_number, case_number=case_number, confirmed_on=on,
                                       acting_user=acting_user)
    if step == RELIEF_GRANTED:
        return bankruptcy_relief_grant(loan_number=loan_number, case_number=case_number, granted_on=on,
                                       acting_user=acting_user)
    if step in (DISCHARGED, DISMISSED):
        return bankruptcy_end(loan_number=loan_number, case_number=case_number, outcome=step, ended_on=on,
                              acting_user=acting_user)
    raise BankruptcyFactRefused(loan_number, f"{step!r} is not a bankruptcy step ({', '.join(STEPS)})")


@transaction.atomic
def _record(loan_number: str, what: str, on: date, acting_user: Actor, build) -> RecordedEvent:
    dated = dated_loan_fact(loan_number, what, on)

    def attempt():
        position = open_position(loan_number, action=f"record a {what} on")
        fact = build()
        try:
            cases_after(loan_cases(loan_number), fact)  # the domain's rules, on the cases the stream holds
        except BankruptcyRefused as refused:
            raise BankruptcyFactRefused(loan_number, str(refused)) from None
        return append_at(position, [fact.new_event(effective_date=on)], acting_user, dated.still_holds)[0]

    return with_retries(attempt)
