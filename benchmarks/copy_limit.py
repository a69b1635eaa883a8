"""The physical limit: how fast PostgreSQL takes the month's rows when nothing else is asked of it.

`copy_limit` streams the same number of event and posting rows the benchmark
records into two plain tables shaped like `ledger_event` and `ledger_posting`
(same columns and types, taken from the models, so the shapes follow the
schema) but with no index, constraint, default or trigger. No real append can
be faster than this on the same machine: it is the floor the report compares
the ledger's own COPY path against.

Three figures come out of one call, so the report can say where the time goes:

- `seconds`: rows generated in Python and streamed with psycopg's
  `write_row`, through commit. What a client doing nothing but COPY costs.
- `generate_seconds`: the same rows generated again, written nowhere: the
  Python share of `seconds` (psycopg's per-row formatting is the rest of
  the client's share).
- `copy_only_seconds`: the rows pre-formatted into COPY text, a batch of
  ~32 MB at a time, and only the COPY of each batch (plus the commit)
  timed: the database's and the socket's share, with no client work in it.

The rows are the bench's own: `written_rows` measures the events the run
just wrote (their count, average payload size and postings per event, from
`ledger_event` and `ledger_posting`) and samples a few thousand of them,
spread evenly over the run's positions, so payments, refunds and the
close's facts come in their real proportions. The limit then COPYs exactly
as many rows, each event a sampled one (its stream, type, JSON payload,
dates, key and hashes) under a new position, each event's postings taken
from its sample's. Without a sample (the tests' small calls) synthetic
PaymentPosted rows of `payload_bytes` stand in. The rows are ones a real
ledger could hold, so the database floor (benchmarks.floor) sends the very
same rows into tables with the ledger's keys and triggers: a sampled event
sent again takes a new version and idempotency key, and each event's
postings, cut or repeated to its share, are set to sum to zero.

Rows are made and sent in chunks, never held all at once, so a run of
millions of rows stays within a few tens of megabytes. The scratch schema is
dropped and recreated at the start and dropped at the end, also on error.
"""
from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from django.db import connection
from django.utils import timezone

from ledger.models import Event, Posting

SCHEMA = "bench_copy"
EVENT_TABLE = f"{SCHEMA}.ledger_event"
POSTING_TABLE = f"{SCHEMA}.ledger_posting"
# Rows per chunk: enough that per-chunk overhead vanishes, few enough that a
# chunk of ~600-byte events stays around 4 MB.
CHUNK = 5_000
EFFECTIVE_DATE = date(2026, 1, 5)
PERIOD = "2026-01"
# The accounts of a payment's postings, in the order an event lists them: the
# servicer's custodial cash first (the debit), the loan's accounts after.
LOAN_ACCOUNT_PARTS = ("principal", "interest", "escrow", "late_charges", "fees", "suspense", "escrow_advance")
CUSTODIAL_CASH = "servicer:custodial:cash"
# A sampled event sent again (the sample is a few thousand of the month's events) has its version moved
# by this much a turn, so (stream, version) stays unique: far above any stream's real version.
REPEAT_VERSIONS = 1_000_000
# Pre-formatted COPY text sent per COPY statement when timing the COPY alone.
BATCH_BYTES = 32 * 1024 * 1024
# COPY text format: backslash, tab, newline and carriage return must be escaped.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


class CopyLimitUnavailable(RuntimeError):
    """The physical limit can only be measured on PostgreSQL, outside a transaction."""


@dataclass(frozen=True, slots=True)
class WrittenRows:
    """What the run wrote after a position, measured, and an even sample of those rows to copy.

    Rows are in the models' column order (`_column_names`), JSON columns as
    their text; each sampled event carries its own postings.
    """

    events: int
    postings: int
    payload_bytes: float
    event_rows: tuple[tuple, ...]
    postings_of: tuple[tuple[tuple, ...], ...]

    @property
    def postings_per_event(self) -> float:
        return self.postings / self.events if self.events else 0.0

    def figures(self) -> dict:
        """The measured shape, for the report and the JSON."""
        return {"measured_events": self.events, "measured_postings": self.postings,
                "payload_bytes": round(self.payload_bytes, 1), "postings_per_event": round(self.postings_per_event, 3),
                "sampled_events": len(self.event_rows)}


def written_rows(*, after_position: int, sample: int = 2_000) -> WrittenRows:
    """The events (and their postings) after `after_position`: counted, measured, and `sample` of them taken.

    The sample is every k-th position, so each kind of event appears in its
    share of the run. Read outside any timing: only the COPY is measured.
    """
    require_postgres()
    event_column = Posting._meta.get_field("event").column
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), COALESCE(avg(octet_length(payload::text)), 0) FROM ledger_event "
                       "WHERE position > %s", [after_position])
        events, payload_bytes = cursor.fetchone()
        cursor.execute(f"SELECT count(*) FROM ledger_posting WHERE {event_column} > %s",  # nosec B608
                       [after_position])  # the column name comes from the model
        postings = cursor.fetchone()[0]
        step = max(1, -(-events // max(1, sample)))  # rounded up: the sample spans every position
        cursor.execute(f"SELECT {_select_list(Event)} FROM ledger_event WHERE position > %s "  # nosec B608
                       "AND (position - %s) %% %s = 0 ORDER BY position LIMIT %s",
                       [after_position, after_position + 1, step, sample])
        event_rows = [tuple(row) for row in cursor.fetchall()]
        at = _column_names(Event).index("position")
        positions = [row[at] for row in event_rows]
        cursor.execute(f"SELECT {_select_list(Posting)} FROM ledger_posting "  # nosec B608
                       f"WHERE {event_column} = ANY(%s) ORDER BY id", [positions])
        by_event: dict[int, list[tuple]] = {position: [] for position in positions}
        posting_event = _column_names(Posting).index(event_column)
        for row in cursor.fetchall():
            by_event[row[posting_event]].append(tuple(row))
    return WrittenRows(events=events, postings=postings, payload_bytes=float(payload_bytes),
                       event_rows=tuple(event_rows), postings_of=tuple(tuple(by_event[p]) for p in positions))


def _select_list(model) -> str:
    """The model's columns, JSON ones as their text: rows ready to COPY back as they came."""
    return ", ".join(f'"{column}"::text' if kind == "jsonb" else f'"{column}"' for column, kind in _plain_columns(model))


def copy_limit(*, events: int, postings: int, payload_bytes: int = 600, chunk: int = CHUNK,
               measure_copy_only: bool = True, sample: WrittenRows | None = None) -> dict:
    """COPY `events` event rows and `postings` posting rows into plain tables; return the timings.

    Returns {"events", "postings", "seconds", "rows_per_second", "generate_seconds",
    "copy_only_seconds"} (the last only when `measure_copy_only`; it COPYs
    every row a second time, into fresh tables), and with a `sample`, the
    shape it measured and the average payload the COPY sent ("sent_payload_bytes").
    Without one, synthetic payments of about `payload_bytes` are sent.
    """
    require_postgres()
    if events < 0 or postings < 0 or chunk < 1:
        raise ValueError("events and postings must be zero or more, and chunk at least 1")
    if postings and not events:
        raise ValueError("postings belong to events: ask for at least one event")
    connection.ensure_connection()
    raw = connection.connection
    if sample is not None and not sample.event_rows and events:
        raise ValueError("the sample of written rows is empty: nothing to copy the shape of")
    spec = _RowSpec(events=events, postings=postings, payload_bytes=payload_bytes, chunk=chunk,
                    recorded_at=timezone.now(), sample=sample)
    try:
        _create_tables(raw)
        seconds = _streamed_copy(raw, spec)
        _check_counts(raw, spec)
        result = {"events": events, "postings": postings, "seconds": seconds,
                  "rows_per_second": _rate(events + postings, seconds),
                  "generate_seconds": _generation_only(spec)}
        if sample is not None:
            result.update(sample.figures(), sent_payload_bytes=round(spec.sent_payload_bytes(), 1))
        if measure_copy_only:
            # Fresh tables, so the second COPY meets the same empty tables as the first.
            _create_tables(raw)
            result["copy_only_seconds"] = _buffered_copy(raw, spec)
            _check_counts(raw, spec)
        return result
    finally:
        drop_schema(raw)


def scratch_schema_exists(schema: str = SCHEMA) -> bool:
    """Whether the scratch schema is there (it should not be, outside a run); the database floor's too."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", [schema])
        return cursor.fetchone() is not None


def require_postgres(measure: str = "copy_limit", refusal: type[CopyLimitUnavailable] = CopyLimitUnavailable) -> None:
    """Refuse anything but PostgreSQL outside a transaction: COPY, a schema, and a commit of our own.

    `measure` names what is refused in the message (the database floor shares the rule).
    """
    if connection.vendor != "postgresql":
        raise refusal(
            f"{measure} measures PostgreSQL's COPY; the default database is {connection.vendor}. "
            "Set DATABASE_URL to a PostgreSQL database.")
    if connection.in_atomic_block:
        raise refusal(f"{measure} commits and drops its own schema: call it outside transaction.atomic()")


def _rate(rows: int, seconds: float) -> float:
    return rows / seconds if seconds > 0 else 0.0


# --- The plain tables -----------------------------------------------------------------------------------


def _plain_columns(model) -> list[tuple[str, str]]:
    """(column, type) of every column of the model's table, from its fields: same shape, nothing else.

    db_type gives the bare type (an auto field is plain bigint, a foreign key
    its target's type), so no default, identity, NOT NULL or check comes along.
    """
    return [(f.column, f.db_type(connection)) for f in model._meta.concrete_fields]


def _column_names(model) -> list[str]:
    return [column for column, _ in _plain_columns(model)]


def _create_tables(raw) -> None:
    """The scratch schema, dropped and recreated, with the two plain tables; committed (autocommit)."""
    with raw.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        cursor.execute(f"CREATE SCHEMA {SCHEMA}")
        for table, model in ((EVENT_TABLE, Event), (POSTING_TABLE, Posting)):
            columns = ", ".join(f'"{name}" {kind}' for name, kind in _plain_columns(model))
            cursor.execute(f"CREATE TABLE {table} ({columns})")


def drop_schema(raw, schema: str = SCHEMA) -> None:
    with raw.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def _check_counts(raw, spec: _RowSpec) -> None:
    """Every row generated arrived: a timing of a COPY that lost rows would be worthless."""
    with raw.cursor() as cursor:
        for table, expected in ((EVENT_TABLE, spec.events), (POSTING_TABLE, spec.postings)):
            cursor.execute(f"SELECT count(*) FROM {table}")  # table names are this module's constants # nosec B608
            found = cursor.fetchone()[0]
            if found != expected:
                raise RuntimeError(f"{table} holds {found} rows after the COPY, not {expected}")


def _copy_sql(table: str, model) -> str:
    return f"COPY {table} ({', '.join(_column_names(model))}) FROM STDIN"


# --- The three measurements -----------------------------------------------------------------------------


def _streamed_copy(raw, spec: _RowSpec) -> float:
    """Generate and write_row every row, both tables in one transaction; seconds through commit."""
    started = time.perf_counter()
    with raw.transaction(), raw.cursor() as cursor:
        stream_rows(cursor, spec)
    return time.perf_counter() - started


def stream_rows(cursor, spec: _RowSpec) -> None:
    """Generate and write_row every row of the spec's two tables, one COPY each, in the cursor's transaction.

    The COPY limit's client work, shared with the database floor (benchmarks.floor), so both send the same
    rows the same way.
    """
    for table, model, chunks in spec.tables():
        with cursor.copy(_copy_sql(table, model)) as copy:
            for rows in chunks:
                for row in rows:
                    copy.write_row(row)


def _generation_only(spec: _RowSpec) -> float:
    """The Python generation of the same rows, sent nowhere: the client's own share of the COPY."""
    started = time.perf_counter()
    count = 0
    for _, _, chunks in spec.tables():
        for rows in chunks:
            count += len(rows)
    elapsed = time.perf_counter() - started
    if count != spec.events + spec.postings:  # a timing of rows never sent would be worthless
        raise RuntimeError(f"{count} rows sent, not {spec.events + spec.postings}")
    return elapsed


def _buffered_copy(raw, spec: _RowSpec) -> float:
    """Rows formatted as COPY text first (not timed), then only their COPY timed; plus the commit.

    The rows go in batches of about BATCH_BYTES, one COPY statement each,
    all in one transaction. Ending each COPY waits for the server to have
    taken every row of it, so nothing the server does overlaps the untimed
    formatting of the next batch (with one endless COPY, the server would
    work through its socket buffer while Python formats, and that work would
    escape the timer).
    """
    spent = 0.0
    with raw.transaction(), raw.cursor() as cursor:
        for table, model, chunks in spec.tables():
            sql = _copy_sql(table, model)
            for batch in _text_batches(chunks):
                started = time.perf_counter()
                with cursor.copy(sql) as copy:
                    for data in batch:
                        copy.write(data)
                spent += time.perf_counter() - started
        committing = time.perf_counter()  # leaving the block commits: timed too
    return spent + time.perf_counter() - committing


def _text_batches(chunks: Iterator[list[tuple]]) -> Iterator[list[bytes]]:
    """Chunks of rows as COPY text, grouped into batches of about BATCH_BYTES: memory stays bounded."""
    batch: list[bytes] = []
    size = 0
    for rows in chunks:
        data = _copy_text(rows)
        batch.append(data)
        size += len(data)
        if size >= BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _copy_text(rows: Sequence[tuple]) -> bytes:
    """Rows in COPY's text format: tab-separated, escaped, \\N for NULL, one line each."""
    return "".join("\t".join(_text_value(v) for v in row) + "\n" for row in rows).encode()


def _text_value(value) -> str:
    if value is None:
        return r"\N"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)  # int, date (ISO)


# --- Realistic rows -------------------------------------------------------------------------------------


class _RowSpec:
    """What to generate: counts, payload size, chunk size and the batch's recorded time.

    By default into this module's plain tables from position and posting id 1; the database floor
    (benchmarks.floor) sends the same rows into its own tables after the log's rows (`first_position`,
    `first_posting_id`, `tables_in`).
    """

    def __init__(self, *, events: int, postings: int, payload_bytes: int, chunk: int, recorded_at: datetime,
                 sample: WrittenRows | None = None, first_position: int = 1, first_posting_id: int = 1,
                 tables_in: str = SCHEMA):
        self.events, self.postings, self.chunk = events, postings, chunk
        self.recorded_at = recorded_at
        self.payload_tail = _payload_tail(payload_bytes)
        self.sample = sample
        self.first_position, self.first_posting_id = first_position, first_posting_id
        self.event_table, self.posting_table = (f"{tables_in}.{m._meta.db_table}" for m in (Event, Posting))
        event_columns = _column_names(Event)
        self.position_at = event_columns.index("position")
        self.payload_at = event_columns.index("payload")
        self.version_at = event_columns.index("version")
        self.key_at = event_columns.index("idempotency_key")
        posting_columns = _column_names(Posting)
        self.posting_id_at = posting_columns.index(Posting._meta.pk.column)
        self.posting_event_at = posting_columns.index(Posting._meta.get_field("event").column)
        self.amount_at = posting_columns.index("amount_cents")

    def sent_payload_bytes(self) -> float:
        """The average payload the COPY sends (the sample's rows in turn), to set beside the measured one."""
        if not self.events:
            return 0.0
        if self.sample is None:
            return float(len(self.event_row(1)[self.payload_at].encode()))
        rows = self.sample.event_rows
        sizes = [len(row[self.payload_at].encode()) for row in rows]
        full, rest = divmod(self.events, len(rows))
        return (full * sum(sizes) + sum(sizes[:rest])) / self.events

    def tables(self) -> Iterator[tuple[str, type, Iterator[list[tuple]]]]:
        """(table, model, chunks of rows) for the events, then the postings: a fresh generator each time."""
        yield self.event_table, Event, self.event_chunks()
        yield self.posting_table, Posting, self.posting_chunks()

    def event_chunks(self) -> Iterator[list[tuple]]:
        for start in range(1, self.events + 1, self.chunk):
            yield [self.event_row(position) for position in range(start, min(start + self.chunk, self.events + 1))]

    def event_row(self, position: int) -> tuple:
        """The sampled event for `position` (in turn) under that position; or a synthetic PaymentPosted.

        `position` counts from 1; the row's position is `first_position` on. Each turn after the first
        through the sample moves the version and the idempotency key of its events (by REPEAT_VERSIONS a
        turn, a `~turn` suffix), so every row keeps the log's unique keys (stream and version, key) and the
        database floor's real constraints take them as they would take the month.
        """
        if self.sample is not None:
            turn, at = divmod(position - 1, len(self.sample.event_rows))
            row = list(self.sample.event_rows[at])
            row[self.position_at] = self.first_position + position - 1
            if turn:
                row[self.version_at] += turn * REPEAT_VERSIONS
                if row[self.key_at] is not None:
                    row[self.key_at] = f"{row[self.key_at]}~{turn}"
            return tuple(row)
        return self.synthetic_event_row(self.first_position + position - 1)

    def synthetic_event_row(self, position: int) -> tuple:
        """A PaymentPosted on loan number `position`, version 2 (after its LoanBoarded), Event's columns."""
        loan = loan_number(position)
        amount = 150_000 + position % 90_000
        payload = (f'{{"loan_number": "{loan}", "reference": "LBX-{PERIOD}-{loan}", '
                   f'"amount_cents": {amount}, {self.payload_tail}')
        return (position, f"loan:{loan}", 2, "PaymentPosted", payload, EFFECTIVE_DATE, self.recorded_at, None,
                f"payment:LBX-{PERIOD}-{loan}", _hex(b"boarded:%d" % position), _hex(b"posted:%d" % position))

    def posting_chunks(self) -> Iterator[list[tuple]]:
        """Exactly `postings` rows spread evenly over the events (synthetic ones summing to zero per event)."""
        rows: list[tuple] = []
        posting_id = self.first_posting_id - 1
        for position in range(1, self.events + 1):
            lines = (position * self.postings // self.events) - ((position - 1) * self.postings // self.events)
            for row in self.posting_rows(position, lines):
                posting_id += 1
                row[self.posting_id_at] = posting_id
                rows.append(tuple(row))
            if len(rows) >= self.chunk:
                yield rows
                rows = []
        if rows:
            yield rows


    def posting_rows(self, position: int, count: int) -> list[list]:
        """`count` posting rows of event `position`: its sample's postings (repeated or cut to `count`).

        The count is the even spread of the total, so the COPY sends exactly as
        many postings as the run wrote; the rows are the sample's own accounts,
        amounts and dates. Ids are set by the caller.
        """
        event = self.first_position + position - 1
        if self.sample is not None:
            own = self.sample.postings_of[(position - 1) % len(self.sample.postings_of)] or self._any_postings()
            rows = [list(own[k % len(own)]) for k in range(count)]
            for row in rows:
                row[self.posting_event_at] = event
            return _balanced(rows, self.amount_at)
        return [[0, event, account, cents, EFFECTIVE_DATE]
                for account, cents in _posting_lines(loan_number(event), count, event)]

    def _any_postings(self) -> tuple[tuple, ...]:
        """Some sampled event's postings, for an event of the sample that had none of its own."""
        for own in self.sample.postings_of:
            if own:
                return own
        raise ValueError("the sampled events have no postings: cannot copy postings in their shape")


def _balanced(rows: list[list], amount_at: int) -> list[list]:
    """The rows with the last one's amount set so they sum to zero, none of them zero: a real event's lines.

    A sampled event's own lines already balance; repeated or cut to the even share of postings they may
    not, and the ledger's balance trigger (which the database floor keeps) would refuse them. One line
    alone cannot balance: left as it is (only when fewer than two postings an event are asked).
    """
    if len(rows) < 2:
        return rows
    rest = sum(row[amount_at] for row in rows[:-1])
    if rest == 0:  # the last line would be zero: move the first one by a cent
        rows[0][amount_at] += 1 if rows[0][amount_at] != -1 else 2
        rest = sum(row[amount_at] for row in rows[:-1])
    rows[-1][amount_at] = -rest
    return rows


def loan_number(index: int) -> str:
    """The benchmark's loan numbers (benchmarks.portfolio's form): BL00000001, ..."""
    return f"BL{index:08d}"


def _hex(seed: bytes) -> str:
    """A 64-character hex digest, as the hash chain stores (a real SHA-256, so the cost is real too)."""
    return hashlib.sha256(seed).hexdigest()


def _posting_lines(loan: str, count: int, position: int) -> list[tuple[str, int]]:
    """`count` lines of a payment: cash debited first, the loan's accounts credited, summing to zero."""
    if count == 0:
        return []
    if count == 1:
        return [(CUSTODIAL_CASH, 1 + position % 1000)]  # only when asked for fewer postings than two per event
    credits = [(f"loan:{loan}:{LOAN_ACCOUNT_PARTS[k % len(LOAN_ACCOUNT_PARTS)]}", -(10_000 + 97 * k + position % 500))
               for k in range(count - 1)]
    return [(CUSTODIAL_CASH, -sum(cents for _, cents in credits)), *credits]


def _payload_tail(payload_bytes: int) -> str:
    """The JSON after a payment's loan, reference and amount, padded so the payload is about `payload_bytes`.

    Built once: the per-row part is only the leading fields, so generation
    stays cheap and the figure is the database's, not json.dumps'.
    """
    rest = {
        "received_on": EFFECTIVE_DATE.isoformat(), "principal_only": False,
        "application": {"interest_cents": 120_000, "principal_cents": 30_000, "curtailment_cents": 0,
                        "escrow_cents": 25_000, "installments_paid": 1, "due_dates_paid": ["2026-01-01"]},
        "collections": {"interest_cents": 120_000, "scheduled_principal_cents": 30_000, "curtailment_cents": 0,
                        "payoff_principal_cents": 0, "liquidation_principal_cents": 0, "realized_loss_cents": 0},
    }
    sample_head = f'{{"loan_number": "{loan_number(1)}", "reference": "LBX-{PERIOD}-{loan_number(1)}", ' \
                  f'"amount_cents": 175000, '
    tail = json.dumps(rest)[1:]  # without its opening brace: the head opens the object
    shortfall = payload_bytes - len(sample_head) - len(tail)
    if shortfall <= len(', "memo": ""'):
        return tail
    memo = "m" * (shortfall - len(', "memo": ""'))
    return tail[:-1] + f', "memo": "{memo}"}}'
