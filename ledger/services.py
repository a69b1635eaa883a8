"""The one way into the log: append events, with their postings, atomically.

`append_batch` validates everything first, then takes the log's position
lock, so appends are serialised from there to commit: positions are gap-free
and in commit order, a stale expected version is a clean conflict, and an
idempotency key is checked against everything committed before. Projections
are updated in the same transaction, so read models never lag the log.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import date

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from ledger.actors import Actor, require_actor
from ledger.bulk import copy_rows, cycle_collector_paused, fetch_bound, is_postgres, upsert_sums
from ledger.errors import ConcurrencyConflict, IdempotencyConflict
from ledger.domain.hashing import content_of, event_hash
from ledger.models import GENESIS_HASH, Event, LogPosition, Posting, Stream
from ledger.projections import registry
from ledger.domain.records import NewEvent, PostingLine, RecordedEvent, StreamAppend
from ledger.selectors import recorded_by_keys
from ledger.domain.validation import check_batch

EVENT_COLUMNS = ("position", "stream", "version", "event_type", "payload", "effective_date", "recorded_at",
                 "acting_user", "idempotency_key", "previous_hash", "hash")
POSTING_COLUMNS = ("event", "account", "amount_cents", "effective_date")

# A writer's last check, made once the log's lock is held (given the last position handed out), before anything
# is written: it raises to refuse the batch. E.g. the dated-fact rules asked again only if what they read moved
# since the writer checked its facts without the lock (ledger.business_time.dated_rules_moved).
UnderLock = Callable[[int], None]


def append(
    *,
    stream: str,
    expected_version: int | None,
    events: Sequence[NewEvent],
    acting_user: Actor,
    under_lock: UnderLock | None = None,
) -> list[RecordedEvent]:
    """Append events to one stream at the expected version (None: at its head)."""
    return append_batch(
        appends=[StreamAppend(stream=stream, expected_version=expected_version, events=tuple(events))],
        acting_user=acting_user, under_lock=under_lock,
    )


def append_batch(*, appends: Sequence[StreamAppend], acting_user: Actor,
                 under_lock: UnderLock | None = None) -> list[RecordedEvent]:
    """Append events to several streams in one transaction: all are recorded, or none.

    Returns the recorded events in position order. If every event carries an
    idempotency key that was recorded before with the same content, returns
    those original events and writes nothing. acting_user is who acts (ledger.actors): a user
    or a named SystemActor, never None. `under_lock`, if given, is called with the log's last
    position as soon as its lock is held; whatever it raises refuses the batch, nothing written.
    """
    require_actor(acting_user)
    with cycle_collector_paused():  # a batch of thousands of events: see ledger.bulk
        return _append_batch(appends, acting_user, under_lock)


def _append_batch(appends: Sequence[StreamAppend], acting_user: Actor,
                  under_lock: UnderLock | None) -> list[RecordedEvent]:
    check_batch(appends)
    try:
        with transaction.atomic():
            last_position = _lock_log()
            if under_lock is not None:
                under_lock(last_position)
            replay = _idempotent_replay(appends)
            if replay is not None:
                return replay
            heads = _stream_heads([a.stream for a in appends])
            _check_versions(appends, heads)
            recorded = _write(appends, heads, last_position, acting_user)
            registry.apply(recorded)
            return recorded
    except IntegrityError as error:
        # The position lock makes this unreachable for writers that use this
        # service; it is the constraint catching one that did not.
        raise ConcurrencyConflict(appends[0].stream, appends[0].expected_version, -1) from error


def _lock_log() -> int:
    """Take the log's position lock and return the last position handed out."""
    row = LogPosition.objects.select_for_update().filter(id=1).first()
    if row is None:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO ledger_logposition (id, last_position) "
                "SELECT 1, COALESCE(MAX(position), 0) FROM ledger_event ON CONFLICT (id) DO NOTHING"
            )
        row = LogPosition.objects.select_for_update().get(id=1)
    return row.last_position


def _idempotent_replay(appends: Sequence[StreamAppend]) -> list[RecordedEvent] | None:
    keyed = {e.idempotency_key: (a.stream, e) for a in appends for e in a.events if e.idempotency_key}
    if not keyed:
        return None
    # Under the log's lock: the usual answer (none) in one bound look-up.
    found = {r.idempotency_key: r for r in recorded_by_keys(list(keyed))}
    if not found:
        return None
    for key, original in found.items():
        stream, event = keyed[key]
        if _content(stream, event) != _recorded_content(original):
            raise IdempotencyConflict(
                key, f"was first used for a different {original.event_type} on {original.stream} "
                f"(position {original.position}); use a new key for a new fact"
            )
    total = sum(len(a.events) for a in appends)
    if len(found) != total:
        missing = sorted(set(keyed) - set(found)) or ["(events without a key)"]
        raise IdempotencyConflict(
            sorted(found)[0], f"already recorded, but this batch also holds {', '.join(missing)}: "
            "a batch is replayed whole or not at all"
        )
    return sorted(found.values(), key=lambda r: r.position)


def _content(stream: str, event: NewEvent) -> dict:
    return content_of(
        stream=stream, event_type=event.event_type, payload=event.payload,
        effective_date=event.effective_date, postings=event.postings,
    )


def _recorded_content(record: RecordedEvent) -> dict:
    return content_of(
        stream=record.stream, event_type=record.event_type, payload=record.payload,
        effective_date=record.effective_date, postings=record.postings,
    )


def _stream_heads(streams: list[str]) -> dict[str, tuple[int, str]]:
    if is_postgres():  # one bound look-up, under the log's lock: no IN lists built and quoted in Python
        return {name: (version, head_hash) for name, version, head_hash in fetch_bound(
            "SELECT name, version, head_hash FROM ledger_stream WHERE name = ANY(%s)", [streams])}
    heads: dict[str, tuple[int, str]] = {}
    for start in range(0, len(streams), 1000):
        chunk = streams[start : start + 1000]
        for name, version, head_hash in Stream.objects.filter(name__in=chunk).values_list(
            "name", "version", "head_hash"
        ):
            heads[name] = (version, head_hash)
    return heads


def _check_versions(appends: Sequence[StreamAppend], heads: dict[str, tuple[int, str]]) -> None:
    for a in appends:
        actual = heads.get(a.stream, (0, GENESIS_HASH))[0]
        if a.expected_version is not None and a.expected_version != actual:
            raise ConcurrencyConflict(a.stream, a.expected_version, actual)


def _write(appends, heads, last_position: int, acting_user: Actor) -> list[RecordedEvent]:
    recorded_at = timezone.now()
    acting_user_id = getattr(acting_user, "pk", None)
    records: list[RecordedEvent] = []
    new_heads: list[tuple[str, int, str]] = []  # (stream, version, head hash): upserted in one statement

    def sealed() -> Iterator[RecordedEvent]:
        # Sealed as the events are copied in: the database stores the first rows while the rest are hashed.
        position = last_position
        for a in appends:
            version, previous = heads.get(a.stream, (0, GENESIS_HASH))
            for event in a.events:
                position += 1
                version += 1
                record = _seal(a.stream, event, position, version, previous, recorded_at, acting_user_id)
                records.append(record)
                yield record
                previous = record.hash
            if a.events:
                new_heads.append((a.stream, version, previous))

    _insert(sealed(), records)
    _move_heads(new_heads)
    LogPosition.objects.filter(id=1).update(last_position=records[-1].position)
    return records


def _insert(sealing: Iterator[RecordedEvent], records: list[RecordedEvent]) -> None:
    """The events and their postings: one COPY each on PostgreSQL, the ORM's bulk insert elsewhere.

    `sealing` seals each event as it is taken and adds it to `records`; the
    postings are written once every event is (their foreign key is checked
    at the end of their statement).
    """
    if not is_postgres():
        Event.objects.bulk_create([_event_row(r) for r in sealing], batch_size=1000)
        Posting.objects.bulk_create([
            Posting(event_id=r.position, account=p.account, amount_cents=p.amount_cents,
                    effective_date=r.effective_date)
            for r in records for p in r.postings
        ], batch_size=2000)
        return
    copy_rows(Event, EVENT_COLUMNS, (
        (r.position, r.stream, r.version, r.event_type, r.payload, r.effective_date, r.recorded_at,
         r.acting_user_id, r.idempotency_key, r.previous_hash, r.hash) for r in sealing), json_checked=True)
    copy_rows(Posting, POSTING_COLUMNS, (
        (r.position, p.account, p.amount_cents, r.effective_date) for r in records for p in r.postings))


def _move_heads(heads: list[tuple[str, int, str]]) -> None:
    """Each stream's new version and head hash: inserted, or moved on from where it was."""
    upsert_sums("ledger_stream", "name", (), heads, replace=("version", "head_hash"),
                replace_types=("integer", "varchar"))


def _seal(stream, event: NewEvent, position, version, previous, recorded_at, acting_user_id) -> RecordedEvent:
    digest = event_hash(
        previous_hash=previous, position=position, version=version, content=_content(stream, event),
        recorded_at=recorded_at, acting_user_id=acting_user_id, idempotency_key=event.idempotency_key,
        # check_batch ran check_payload on every event appended (no float in a payload); the rest is the
        # ledger's own text and whole numbers, the acting user's key included (checked, should a user model
        # ever key its users otherwise).
        checked=acting_user_id is None or type(acting_user_id) is int,
    )
    return RecordedEvent(
        position=position, stream=stream, version=version, event_type=event.event_type,
        payload=event.payload, effective_date=event.effective_date, recorded_at=recorded_at,
        acting_user_id=acting_user_id, idempotency_key=event.idempotency_key,
        previous_hash=previous, hash=digest, postings=event.postings, source_fact=event.source_fact,
    )


def _event_row(r: RecordedEvent) -> Event:
    return Event(
        position=r.position, stream=r.stream, version=r.version, event_type=r.event_type,
        payload=r.payload, effective_date=r.effective_date, recorded_at=r.recorded_at,
        acting_user_id=r.acting_user_id, idempotency_key=r.idempotency_key,
        previous_hash=r.previous_hash, hash=r.hash,
    )


def transfer(
    *, stream: str, event_type: str, debit: str, credit: str, amount_cents: int, effective_date: date,
    payload: dict | None = None, idempotency_key: str | None = None, acting_user: Actor,
) -> RecordedEvent:
    """A one-line convenience: move an amount from one account to another as one event."""
    event = NewEvent(
        event_type=event_type, payload=payload or {}, effective_date=effective_date,
        postings=(PostingLine(debit, amount_cents), PostingLine(credit, -amount_cents)),
        idempotency_key=idempotency_key,
    )
    return append(stream=stream, expected_version=None, events=[event], acting_user=acting_user)[0]
