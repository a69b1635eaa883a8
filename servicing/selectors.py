"""Reads of servicing state: positions (now, and as of a past day), their agreement with the ledger, the terms
in force for a period, and the default-servicing states."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

from django.db.models import Q, Sum

from ledger.domain.records import RecordedEvent
from ledger.models import Event, Posting
from ledger.selectors import recorded_events
from servicing.domain.default_states import DefaultState
from servicing.events import LoanBoarded, LoanTermsChanged, loan_fact
from servicing.models import LoanPosition, loan_stream
from servicing.projections import CREATING, HANDLERS, loan_number_of


def loan_positions_match_ledger() -> list[str]:
    """Each loan's unpaid balance in the read model equals its principal account in the ledger."""
    ledger = {
        row["account"].split(":")[1]: row["total"]
        for row in Posting.objects.filter(account__startswith="loan:", account__endswith=":principal")
        .values("account").annotate(total=Sum("amount_cents"))
    }
    problems = []
    for loan_id, upb in LoanPosition.objects.values_list("loan_id", "principal_balance_cents").order_by("loan_id"):
        if ledger.get(loan_id, 0) != upb:
            problems.append(
                f"loan {loan_id}: unpaid balance {upb} in its position differs from {ledger.get(loan_id, 0)} "
                "in the ledger's principal account"
            )
    return problems[:1] + ([f"... and {len(problems) - 1} more loans"] if len(problems) > 1 else [])


def positions_as_of(loan_numbers: list[str], *, day: date, through_position: int) -> dict[str, LoanPosition]:
    """Each loan's position at the end of `day`, as the log stood at `through_position`: unsaved rows.

    The loan's events dated on or before the day and recorded by then, folded in log order by the
    position projection's own handlers (the one fold), so a month's status is never restated by what
    happened, or was recorded, after it. Loans not boarded by then are left out.
    """
    streams = [loan_stream(number) for number in loan_numbers]
    events = Event.objects.filter(stream__in=streams, effective_date__lte=day, position__lte=through_position)
    return _folded(recorded_events(events))


def loan_positions_on(loan_number: str, *, days: Sequence[date], through_position: int) -> dict[date, LoanPosition]:
    """The loan's position at the end of each of `days` (positions_as_of's rules), its events read once.

    Each day is folded on its own, from the events dated on or before it in log order (an event
    recorded late but dated early belongs to every day from its date on, so one running fold could
    not give the days apart). A day before the loan was boarded is left out.
    """
    events = recorded_events(Event.objects.filter(
        stream=loan_stream(loan_number), effective_date__lte=max(days), position__lte=through_position))
    positions = {}
    for day in days:
        position = _folded(e for e in events if e.effective_date <= day).get(loan_number)
        if position is not None:
            positions[day] = position
    return positions


def _folded(events: Iterable[RecordedEvent]) -> dict[str, LoanPosition]:
    """Events in log order folded by the position projection's handlers, by loan number."""
    positions: dict[str, LoanPosition] = {}
    for event in events:
        number = loan_number_of(event)
        position = positions.get(number)
        if position is None and event.event_type not in CREATING:
            continue
        handler = HANDLERS.get(event.event_type)
        if handler is not None:
            positions[number] = handler(position, event)
    return positions


def terms_in_force(loan_numbers: Iterable[str], *, due_by: date,
                   through_position: int | None = None) -> dict[str, tuple[Decimal, int]]:
    """(note rate, P&I) of each of these loans whose terms changed for installments due by `due_by` (a change
    recorded at or before `through_position`, when given): the latest such change. A loan left out still has
    the terms it was boarded with (its Loan row's): a trust's period reads its rates here (remittance)."""
    streams = {loan_stream(n): n for n in loan_numbers}
    rows = Event.objects.filter(stream__in=list(streams), event_type=LoanTermsChanged.event_type)
    if through_position is not None:
        rows = rows.filter(position__lte=through_position)
    latest: dict[str, tuple[date, Decimal, int]] = {}
    for stream, payload in rows.order_by("position").values_list("stream", "payload"):
        change = LoanTermsChanged.from_payload(payload)
        number = streams[stream]
        if change.first_due_date <= due_by and change.first_due_date >= latest.get(number, (date.min,))[0]:
            latest[number] = (change.first_due_date, change.note_rate, change.payment_pi_cents)
    return {number: (rate, pi) for number, (_, rate, pi) in latest.items()}


def loan_terms_history(loan_number: str) -> tuple[LoanBoarded | None, list[LoanTermsChanged]]:
    """The loan's boarding (its terms snapshot) and every change of terms recorded since, oldest first."""
    boarded, changes = None, []
    for event in Event.objects.filter(stream=loan_stream(loan_number), event_type__in=(
            LoanBoarded.event_type, LoanTermsChanged.event_type)).order_by("position"):
        fact = loan_fact(event)
        if isinstance(fact, LoanBoarded):
            boarded = fact
        elif isinstance(fact, LoanTermsChanged):
            changes.append(fact)
    return boarded, changes


def default_state_filter(state: DefaultState, prefix: str = "") -> Q:
    """The positions in a default-servicing state, as a filter (`prefix` "position__" from Loan): the same
    table `servicing.domain.default_states.default_servicing` reads, so both always agree."""
    return Q(**{f"{prefix}{state.field}": state.value})
