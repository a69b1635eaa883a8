"""Tampering by a superuser is found by verify_ledger every time, and the first bad event is named.

Each example builds a random log and commits it (several streams, events of
two to four postings, random payloads, dates and idempotency keys, appended
one stream at a time or several in one batch through `ledger.services`),
checks that it verifies clean, then does one thing a rogue DBA could do past
the append-only triggers (PostgreSQL: SET LOCAL session_replication_role =
replica; SQLite: the triggers dropped and put back) and commits that too:

  an amount changed (the event left unbalanced, or kept balanced by a
  second change), a payload, effective date, recorded time or stream
  changed, a posting deleted or moved to another event, an event deleted
  with its postings (anywhere, the last one included), two versions of a
  stream swapped, two events' positions swapped, an event forged at the end
  with a made-up hash or with a correctly chained one.

The test knows what it tampered with, so it computes the first bad
position itself and requires `verify()`'s first problem to name exactly that
event. Every kind is tried the same number of times: `trials` examples per
kind (a few in `make test`, many under `make soak`).

What no self-contained check can find is out of scope and said in the README:
a superuser who rewrites the tail *and* every piece of bookkeeping (counter,
stream heads, read models) consistently, since the chain has no secret; only
a head hash kept outside the database would show that.
"""
from __future__ import annotations

import json
import re
import time
from collections import Counter
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.db_triggers import install_sql, remove_sql
from ledger.domain.hashing import content_of, event_hash
from ledger.domain.records import NewEvent, PostingLine, StreamAppend
from ledger.services import append, append_batch
from ledger.verification import verify
from tests.actors import TESTS
from tests.soak import SOAK, trials

pytestmark = [pytest.mark.soak, pytest.mark.django_db(transaction=True)]  # tampering is of committed history

EXAMPLES_PER_KIND = trials(2, 25)  # 26 examples in make test, 325 under make soak
KINDS = (
    "amount, unbalanced", "amount, kept balanced", "payload", "effective date", "recorded time", "stream",
    "posting deleted", "posting moved", "event deleted", "versions swapped", "positions swapped",
    "event forged", "event forged with a valid chain",
)
LOG_TABLES = ("ledger_posting", "ledger_event", "ledger_stream", "ledger_accountbalanceslot")
FIRST_NAMED = re.compile(r"^event #(\d+)[ :]")
FORGED_STREAM = "desk:FORGED"


# --- A random log, committed -------------------------------------------------------------------


def _event(draw, desk: int) -> NewEvent:
    """An event of a desk: two to four postings summing to zero, a payload, a date, maybe a key."""
    amounts = draw(st.lists(st.integers(1, 10**11), min_size=1, max_size=3))
    signs = draw(st.lists(st.sampled_from((1, -1)), min_size=len(amounts), max_size=len(amounts)))
    lines = [sign * amount for sign, amount in zip(signs, amounts)]
    if sum(lines) == 0:
        lines = [abs(lines[0])]
    lines.append(-sum(lines))
    accounts = draw(st.permutations([f"desk:D{desk}:cash", f"desk:D{desk}:fees", "bank:custodial",
                                     f"desk:D{desk}:suspense"]))
    payload = {"amount_cents": sum(a for a in lines if a > 0),
               "memo": draw(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                                    max_size=12)),
               "lines": len(lines)}
    return NewEvent(
        event_type=draw(st.sampled_from(("CashMoved", "FeeAccrued", "SuspenseCleared"))),
        payload=payload, effective_date=draw(st.dates(date(2020, 1, 1), date(2030, 12, 31))),
        postings=tuple(PostingLine(account, amount) for account, amount in zip(accounts, lines)),
        idempotency_key=None,
    )


@st.composite
def logs(draw) -> list[list[StreamAppend]]:
    """Transactions of one or more streams' appends; the first stream always gets two events at once."""
    desks = draw(st.integers(2, 4))
    transactions = [[StreamAppend(stream="desk:D0", expected_version=None,
                                  events=(_event(draw, 0), _event(draw, 0)))]]
    for _ in range(draw(st.integers(1, 6))):
        chosen = draw(st.lists(st.integers(0, desks - 1), min_size=1, max_size=2, unique=True))
        transactions.append([
            StreamAppend(stream=f"desk:D{desk}", expected_version=None,
                         events=tuple(_event(draw, desk) for _ in range(draw(st.integers(1, 3)))))
            for desk in chosen
        ])
    return transactions


def _commit(transactions: list[list[StreamAppend]]) -> None:
    key = 0
    for appends in transactions:
        keyed = []
        for a in appends:
            events = []
            for event in a.events:
                key += 1  # some events carry an idempotency key: it is sealed in the hash too
                events.append(NewEvent(event.event_type, event.payload, event.effective_date, event.postings,
                                       idempotency_key=f"key-{key}" if key % 3 == 0 else None))
            keyed.append(StreamAppend(a.stream, a.expected_version, tuple(events)))
        if len(keyed) == 1:
            append(stream=keyed[0].stream, expected_version=None, events=keyed[0].events, acting_user=TESTS)
        else:
            append_batch(appends=keyed, acting_user=TESTS)


# --- As a superuser, past the guard ------------------------------------------------------------------


@contextmanager
def _past_the_guard():
    """What a rogue DBA could do: the append-only triggers off, for one committed transaction."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
            yield cursor
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")
        else:
            for statement in remove_sql("sqlite"):
                cursor.execute(statement)
            yield cursor
            for statement in install_sql("sqlite"):
                cursor.execute(statement)


def _empty_books() -> None:
    with _past_the_guard() as cursor:
        for table in LOG_TABLES:
            cursor.execute(f"DELETE FROM {table}")
        cursor.execute("UPDATE ledger_logposition SET last_position = 0")


def _log_as_stored(cursor) -> tuple[list[tuple], list[tuple]]:
    cursor.execute("SELECT position, stream, version, hash FROM ledger_event ORDER BY position")
    events = cursor.fetchall()
    cursor.execute("SELECT id, event_id, amount_cents FROM ledger_posting ORDER BY id")
    return events, cursor.fetchall()


# --- The tamperings: each does its damage and returns the first position it made bad -----------------


def _a_posting(draw, postings):
    return draw(st.sampled_from(postings))


def amount_unbalanced(draw, cursor, events, postings) -> int:
    posting_id, event_id, amount = _a_posting(draw, postings)
    new = draw(st.integers(-10**12, 10**12).filter(lambda cents: cents not in (0, amount)))
    cursor.execute("UPDATE ledger_posting SET amount_cents = %s WHERE id = %s", [new, posting_id])
    return event_id


def amount_kept_balanced(draw, cursor, events, postings) -> int:
    posting_id, event_id, amount = _a_posting(draw, postings)
    other_id, _, other = draw(st.sampled_from([p for p in postings if p[1] == event_id and p[0] != posting_id]))
    shift = draw(st.integers(1, 10**9).filter(lambda d: amount + d != 0 and other - d != 0))
    cursor.execute("UPDATE ledger_posting SET amount_cents = amount_cents + %s WHERE id = %s", [shift, posting_id])
    cursor.execute("UPDATE ledger_posting SET amount_cents = amount_cents - %s WHERE id = %s", [shift, other_id])
    return event_id


def _an_event(draw, events):
    return draw(st.sampled_from(events))


def payload_changed(draw, cursor, events, postings) -> int:
    position = _an_event(draw, events)[0]
    cursor.execute("SELECT payload FROM ledger_event WHERE position = %s", [position])
    raw = cursor.fetchone()[0]
    changed = json.loads(raw) if isinstance(raw, str) else dict(raw)
    field = draw(st.sampled_from(("amount_cents", "lines", "tampered")))
    changed[field] = (changed.get(field) or 0) + draw(st.integers(1, 10**6))
    cursor.execute("UPDATE ledger_event SET payload = %s WHERE position = %s", [json.dumps(changed), position])
    return position


def effective_date_moved(draw, cursor, events, postings) -> int:
    position = _an_event(draw, events)[0]
    days = draw(st.integers(1, 400)) * draw(st.sampled_from((1, -1)))
    cursor.execute("SELECT effective_date FROM ledger_event WHERE position = %s", [position])
    moved = _as_date(cursor.fetchone()[0]) + timedelta(days=days)
    # A careful DBA moves the postings' copy of the date too, so only the chain can tell.
    moved = connection.ops.adapt_datefield_value(moved)
    cursor.execute("UPDATE ledger_event SET effective_date = %s WHERE position = %s", [moved, position])
    cursor.execute("UPDATE ledger_posting SET effective_date = %s WHERE event_id = %s", [moved, position])
    return position


def recorded_time_moved(draw, cursor, events, postings) -> int:
    position = _an_event(draw, events)[0]
    cursor.execute("SELECT recorded_at FROM ledger_event WHERE position = %s", [position])
    recorded = cursor.fetchone()[0]
    if isinstance(recorded, str):
        recorded = timezone.datetime.fromisoformat(recorded)
    moved = recorded + timedelta(microseconds=draw(st.integers(1, 10**10)))
    cursor.execute("UPDATE ledger_event SET recorded_at = %s WHERE position = %s",
                   [connection.ops.adapt_datetimefield_value(moved), position])
    return position


def stream_changed(draw, cursor, events, postings) -> int:
    position = _an_event(draw, events)[0]
    cursor.execute("UPDATE ledger_event SET stream = %s WHERE position = %s", [FORGED_STREAM, position])
    return position


def posting_deleted(draw, cursor, events, postings) -> int:
    posting_id, event_id, _ = _a_posting(draw, postings)
    cursor.execute("DELETE FROM ledger_posting WHERE id = %s", [posting_id])
    return event_id


def posting_moved(draw, cursor, events, postings) -> int:
    posting_id, event_id, _ = _a_posting(draw, postings)
    target = draw(st.sampled_from([e[0] for e in events if e[0] != event_id]))
    cursor.execute("UPDATE ledger_posting SET event_id = %s WHERE id = %s", [target, posting_id])
    return min(event_id, target)


def event_deleted(draw, cursor, events, postings) -> int:
    position = _an_event(draw, events)[0]
    cursor.execute("DELETE FROM ledger_posting WHERE event_id = %s", [position])
    cursor.execute("DELETE FROM ledger_event WHERE position = %s", [position])
    return position


def versions_swapped(draw, cursor, events, postings) -> int:
    streams = Counter(e[1] for e in events)
    name = draw(st.sampled_from(sorted(s for s, n in streams.items() if n >= 2)))
    first, second = sorted(draw(st.lists(st.sampled_from([e for e in events if e[1] == name]), min_size=2,
                                         max_size=2, unique=True)))
    # Through a free number: (stream, version) is unique, as a reordering DBA finds.
    for position, version in ((first[0], 10**6), (second[0], first[2]), (first[0], second[2])):
        cursor.execute("UPDATE ledger_event SET version = %s WHERE position = %s", [version, position])
    return first[0]


def positions_swapped(draw, cursor, events, postings) -> int:
    a, b = sorted(draw(st.lists(st.sampled_from([e[0] for e in events]), min_size=2, max_size=2, unique=True)))
    spare = 10**9
    for old, new in ((a, spare), (b, a), (spare, b)):
        cursor.execute("UPDATE ledger_event SET position = %s WHERE position = %s", [new, old])
    # The postings follow their events, so each row still belongs where it was written.
    cursor.execute("UPDATE ledger_posting SET event_id = CASE event_id WHEN %s THEN %s ELSE %s END "
                   "WHERE event_id IN (%s, %s)", [a, b, a, a, b])
    return a


def event_forged(draw, cursor, events, postings, *, chained=False) -> int:
    """A balanced event at the next position, on a stream's head; its hash made up, or computed right."""
    name = draw(st.sampled_from(sorted({e[1] for e in events})))
    head_version, head_hash = max((e[2], e[3]) for e in events if e[1] == name)
    position, amount = events[-1][0] + 1, draw(st.integers(1, 10**11))
    lines = (PostingLine("bank:custodial", -amount), PostingLine(f"{name}:cash", amount))
    when, recorded_at = date(2026, 1, 31), timezone.now()
    content = content_of(stream=name, event_type="CashMoved", payload={"amount_cents": amount},
                         effective_date=when, postings=lines)
    sealed = event_hash(previous_hash=head_hash, position=position, version=head_version + 1, content=content,
                        recorded_at=recorded_at, acting_user_id=None, idempotency_key=None)
    cursor.execute(
        "INSERT INTO ledger_event (position, stream, version, event_type, payload, effective_date, recorded_at, "
        "acting_user_id, idempotency_key, previous_hash, hash) VALUES (%s, %s, %s, %s, %s, %s, %s, NULL, NULL, %s, %s)",
        [position, name, head_version + 1, "CashMoved", json.dumps({"amount_cents": amount}),
         connection.ops.adapt_datefield_value(when), connection.ops.adapt_datetimefield_value(recorded_at),
         head_hash, sealed if chained else "f" * 64],
    )
    for line in lines:
        cursor.execute("INSERT INTO ledger_posting (event_id, account, amount_cents, effective_date) "
                       "VALUES (%s, %s, %s, %s)",
                       [position, line.account, line.amount_cents, connection.ops.adapt_datefield_value(when)])
    return position


TAMPERINGS = dict(zip(KINDS, (
    amount_unbalanced, amount_kept_balanced, payload_changed, effective_date_moved, recorded_time_moved,
    stream_changed, posting_deleted,
    posting_moved, event_deleted, versions_swapped, positions_swapped, event_forged,
    lambda *args: event_forged(*args, chained=True),
)))


def _as_date(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


# --- The property ----------------------------------------------------------------------------------------


def test_every_tampering_is_detected_and_the_first_bad_event_named(figures):
    tally = {"examples": 0, "detected": 0, "named_first_correctly": 0, "by_kind": Counter(), "events": 0}
    started = time.monotonic()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # This session's commits need not wait for the disk: a test database, thousands of commits.
            cursor.execute("SET synchronous_commit = off")
    for kind in KINDS:
        _try_kind(kind, tally)
    assert tally["detected"] == tally["examples"] and tally["named_first_correctly"] == tally["examples"]
    figures.record(
        "tampering detected", examples=tally["examples"], by_kind=dict(tally["by_kind"]),
        detected=tally["detected"], named_first_correctly=tally["named_first_correctly"],
        events_in_logs=tally["events"], database=connection.vendor, seconds=round(time.monotonic() - started, 1),
    )


def _try_kind(kind: str, tally: dict) -> None:
    @settings(max_examples=EXAMPLES_PER_KIND, deadline=None, database=None, derandomize=not SOAK,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.function_scoped_fixture])
    @given(log=logs(), data=st.data())
    def tampered(log, data):
        _empty_books()
        _commit(log)
        clean = verify(projections=False)  # the read models are compared once, after the tampering
        assert clean.ok, clean.problems[:3]
        with _past_the_guard() as cursor:
            events, postings = _log_as_stored(cursor)
            first_bad = TAMPERINGS[kind](data.draw, cursor, events, postings)
        report = verify()
        tally["examples"] += 1
        tally["by_kind"][kind] += 1
        tally["events"] += len(events)
        assert not report.ok, f"{kind}: not detected"
        tally["detected"] += 1
        named = FIRST_NAMED.match(report.problems[0])
        assert named and int(named.group(1)) == first_bad, (
            f"{kind}: expected event #{first_bad} first, got: {report.problems[:3]}")
        tally["named_first_correctly"] += 1

    tampered()
