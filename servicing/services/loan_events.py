"""What every service that records loan events shares.

How a service reads a loan (refusing unknown and closed ones), works out the
position an event leaves (`folded`: the event's decision applied to an unsaved
copy, exactly as the projection will), and appends with optimistic
concurrency, reading again when another writer got there first. Events are
built from the classes of `servicing.events`.

A dated fact is checked without the log's lock (`dated_loan_fact`); what the
check returns is asked again once the lock is held (`append_at(...,
dated.still_holds)`), so a trust formed, a loan removed from a pool or a
period closed by another transaction meanwhile refuses the fact as the first
check would have, nothing written.
"""
from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import date
from typing import TypeVar

from django.db import transaction

from ledger.actors import Actor
from ledger.business_time import CheckedFact, DatedFact, checked_fact
from ledger.errors import ConcurrencyConflict
from ledger.domain.money import require_cents
from ledger.domain.records import NewEvent, RecordedEvent
from ledger.models import Event
from ledger.services import UnderLock, append
from servicing.errors import DateRefused, LoanClosed, ServicingError, UnknownLoan
from servicing.models import LoanPosition, LoanStatus, loan_stream
from servicing.events import COLLECTION_KEYS, POSITION_FIELDS, LoanFact

T = TypeVar("T")
RETRIES = 5

STATUS_WORDS = {
    LoanStatus.ACTIVE: "active", LoanStatus.PAID_OFF: "paid off", LoanStatus.FORECLOSURE: "in foreclosure",
    LoanStatus.REO: "REO (acquired by foreclosure)", LoanStatus.LIQUIDATED: "liquidated",
    LoanStatus.CHARGED_OFF: "charged off",
}


def status_words(status: str) -> str:
    return STATUS_WORDS.get(status, status.replace("_", " "))


class ClosedLoanRefused(LoanClosed):
    """A servicing action (not a payment) on a paid off, liquidated or charged off loan."""

    def __init__(self, loan_number: str, status: str, action: str):
        ServicingError.__init__(self, f"loan {loan_number} is {status_words(status)}; cannot {action} a closed loan")


class WrongLoanStatus(ServicingError):
    """The action is not allowed from the loan's current status."""

    def __init__(self, loan_number: str, status: str, action: str, allowed: tuple[str, ...]):
        needed = " or ".join(status_words(s) for s in allowed)
        super().__init__(f"loan {loan_number} is {status_words(status)}; cannot {action} unless it is {needed}")


def dated_loan_fact(loan_number: str, what: str, on: object,
                    refused: type[ServicingError] = DateRefused) -> CheckedFact:
    """`on` as the date of a fact on the loan, checked by the one business-time rule (ledger.business_time):
    a date, not after today, and every registered rule (boarding, cut-offs, closed periods) holds.
    A refusal is raised as `refused` (the caller's own error type), naming the loan and the date.

    Returns the check (its date is `.on`): the writer passes its `still_holds` to `append_at`, which asks
    again, under the log's lock, the rules whose read models moved since, refusing the same way."""
    return checked_fact(DatedFact(what=what, on=on, loan_number=loan_number),  # type: ignore[arg-type]
                        refused=refused)


def append_at(position: LoanPosition, events: list[NewEvent], acting_user: Actor,
              under_lock: UnderLock | None = None) -> list[RecordedEvent]:
    """Append to the loan's stream at the version the position was read at: a writer who got there first
    makes this a ConcurrencyConflict, which `with_retries` answers by reading again. `under_lock`: a last
    check once the log's lock is held (the `still_holds` of the fact's `dated_loan_fact`)."""
    return append(stream=loan_stream(position.loan_id), expected_version=position.stream_version, events=events,
                  acting_user=acting_user, under_lock=under_lock)


def open_position(loan_number: str, *, action: str | None = None) -> LoanPosition:
    """The loan's current position, refusing an unknown or closed loan (naming the action, if given)."""
    return require_open(LoanPosition.objects.filter(loan_id=loan_number).first(), loan_number, action=action)


def require_open(position: LoanPosition | None, loan_number: str, *, action: str | None = None) -> LoanPosition:
    """The position read by the caller, refusing an unknown (None) or closed loan."""
    if position is None:
        raise UnknownLoan(loan_number)
    if position.is_closed:
        if action is None:
            raise LoanClosed(loan_number, position.status)
        raise ClosedLoanRefused(loan_number, position.status, action)
    return position


def require_status(position: LoanPosition, *, action: str, allowed: tuple[str, ...]) -> None:
    if position.status not in allowed:
        raise WrongLoanStatus(position.loan_id, position.status, action, allowed)


def position_after(position: LoanPosition, **changes) -> dict:
    """The v1 `position_after` snapshot of a position (dates ISO), as events recorded before version 2 held it.

    No service writes one any more; tests use it to build v1 payloads that must keep replaying.
    """
    unknown = set(changes) - set(POSITION_FIELDS)
    if unknown:
        raise ValueError(f"not position fields: {sorted(unknown)}")
    fields = {name: getattr(position, name) for name in POSITION_FIELDS}
    fields["status"] = str(fields["status"])
    fields.update(changes)
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in fields.items()}


def folded(position: LoanPosition, fact: LoanFact) -> LoanPosition:
    """An unsaved copy of the position with the fact's decision applied: the position before the next event of
    a batch, worked out by the same fold the projection runs."""
    copy = LoanPosition(**{f.attname: getattr(position, f.attname) for f in LoanPosition._meta.concrete_fields})
    return fact.fold_into(copy)


def collections(**amounts: int) -> dict:
    """The six collection figures as a v1 payload held them (e.g. interest=, realized_loss=), zero where not given.

    Services build `servicing.events.Collections`; tests use this to write payloads by hand.
    """
    unknown = set(amounts) - {k.removesuffix("_cents") for k in COLLECTION_KEYS}
    if unknown:
        raise ValueError(f"not collection figures: {sorted(unknown)}")
    for name, value in amounts.items():
        require_cents(value, name, negative=True)
    return {key: amounts.get(key.removesuffix("_cents"), 0) for key in COLLECTION_KEYS}


def with_retries(attempt: Callable[[], T], *, attempts: int = RETRIES,
                 busy: Callable[[], Exception] | None = None) -> T:
    """Run a read-compute-append attempt, again from a fresh read when another writer got there first.

    After the last attempt, raises `busy()` if given, else the conflict itself.
    """
    for tries in range(attempts):
        try:
            # A savepoint per attempt: a conflict rolls back this attempt only, then we read again.
            with transaction.atomic():
                return attempt()
        except ConcurrencyConflict:
            if tries == attempts - 1 and busy is None:
                raise
            # A little jitter keeps retrying writers from colliding in lockstep.
            time.sleep(random.uniform(0, 0.002 * (tries + 1)))  # retry jitter, not a secret # nosec B311
    raise busy()


def existing_keys(keys: list[str]) -> set[str]:
    return set(Event.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", flat=True))
