"""Reads of the log: events as plain records, and account balances."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from django.db.models import QuerySet, Sum

from ledger.bulk import fetch_bound, is_postgres
from ledger.models import AccountBalance, Event, Posting
from ledger.domain.records import PostingLine, RecordedEvent


def recorded_events(events: QuerySet[Event]) -> list[RecordedEvent]:
    """Events of a queryset with their postings, as plain records (two queries)."""
    rows = list(events.order_by("position"))
    postings: dict[int, list[PostingLine]] = {}
    for event_id, account, amount in Posting.objects.filter(event_id__in=[e.position for e in rows]).order_by(
        "event_id", "id"
    ).values_list("event_id", "account", "amount_cents"):
        postings.setdefault(event_id, []).append(PostingLine(account, amount))
    return [_record(e, postings.get(e.position, ())) for e in rows]


def recorded_by_keys(keys: list[str]) -> list[RecordedEvent]:
    """The events recorded under any of these idempotency keys (usually none), as plain records.

    On PostgreSQL the keys go first as one bound array (`= ANY`), so the
    usual answer for a file of thousands of new keys, none, costs one small
    query instead of an IN list of thousands quoted in Python; the events found
    are then read as `recorded_events` reads them.
    """
    if not keys:
        return []
    if is_postgres():
        keys = [key for (key,) in fetch_bound(
            "SELECT idempotency_key FROM ledger_event WHERE idempotency_key = ANY(%s)", [keys])]
        if not keys:
            return []
    return recorded_events(Event.objects.filter(idempotency_key__in=keys))


def iter_log(*, after_position: int = 0, chunk_size: int = 2000) -> Iterator[list[RecordedEvent]]:
    """The whole log in position order, in chunks, with bounded memory."""
    while True:
        rows = list(Event.objects.filter(position__gt=after_position).order_by("position")[:chunk_size])
        if not rows:
            return
        first, last = rows[0].position, rows[-1].position
        postings: dict[int, list[PostingLine]] = {}
        for event_id, account, amount in Posting.objects.filter(
            event_id__gte=first, event_id__lte=last
        ).order_by("event_id", "id").values_list("event_id", "account", "amount_cents"):
            postings.setdefault(event_id, []).append(PostingLine(account, amount))
        yield [_record(e, postings.get(e.position, ())) for e in rows]
        after_position = last


def _record(e: Event, postings) -> RecordedEvent:
    return RecordedEvent(
        position=e.position, stream=e.stream, version=e.version, event_type=e.event_type,
        payload=e.payload, effective_date=e.effective_date, recorded_at=e.recorded_at,
        acting_user_id=e.acting_user_id, idempotency_key=e.idempotency_key,
        previous_hash=e.previous_hash, hash=e.hash, postings=tuple(postings),
    )


def stream_events(stream: str) -> list[RecordedEvent]:
    return recorded_events(Event.objects.filter(stream=stream))


def account_balance(account: str, *, as_of: date | None = None) -> int:
    """The balance of one account in cents, optionally as of an effective date (inclusive)."""
    postings = Posting.objects.filter(account=account)
    if as_of is not None:
        postings = postings.filter(effective_date__lte=as_of)
    return postings.aggregate(total=Sum("amount_cents"))["total"] or 0


def account_balances(names: list[str], *, as_of: date | None = None) -> dict[str, int]:
    """Several accounts' balances in cents in one query (an account with no postings is 0)."""
    postings = Posting.objects.filter(account__in=names)
    if as_of is not None:
        postings = postings.filter(effective_date__lte=as_of)
    totals = dict(postings.values("account").annotate(total=Sum("amount_cents")).values_list("account", "total"))
    return {name: totals.get(name) or 0 for name in names}


def stored_balances(names: list[str]) -> dict[str, int]:
    """Several accounts' current balances from the read model, in one query (no postings: 0).

    The one reader of stored balances: `AccountBalance` sums each account's
    slots (a hot account is kept in several rows), so no caller ever sees a
    slot as an account. Without an as-of date this is the cheap way; the
    functions above add up postings instead.
    """
    rows = dict(AccountBalance.objects.filter(account__in=names).values_list("account", "balance_cents"))
    return {name: rows.get(name, 0) for name in names}


def prefix_balance(prefix: str, *, as_of: date | None = None) -> int:
    """The summed balance of every account under a prefix, e.g. 'loan:L1:'."""
    return sum(balances_under(prefix, as_of=as_of).values())


def balances_under(prefix: str, *, as_of: date | None = None) -> dict[str, int]:
    """Each account under a prefix with its balance in cents (accounts at zero included)."""
    postings = Posting.objects.filter(account__startswith=prefix)
    if as_of is not None:
        postings = postings.filter(effective_date__lte=as_of)
    rows = postings.values("account").annotate(total=Sum("amount_cents")).order_by("account")
    # SQLite's LIKE ignores case; keep only true prefix matches.
    return {row["account"]: row["total"] for row in rows if row["account"].startswith(prefix)}
