"""The database floor: the month's rows appended with every guarantee the ledger keeps, and nothing else.

The COPY limit (benchmarks.copy_limit) sends the month's rows into plain
tables, with no index, constraint or trigger: no append that keeps the
ledger's promises can come near it. `database_floor` sends the very same rows
(the limit's own sample and row generator, streamed the same way) into tables
shaped exactly like the real ones, and adds the read models' writes the
append must make in the same transaction, so what it measures is what
PostgreSQL alone needs for the guarantees, with no Python of the project's:

- `ledger_event` and `ledger_posting` copied from the live tables with
  `CREATE TABLE ... (LIKE ... INCLUDING ALL)` (primary keys, unique keys:
  stream and version, idempotency key; checks; indexes), then every foreign
  key of the live tables (posting to event pointed at the scratch event
  table, the acting user at the real users) and every trigger (the row
  immutability trigger `ledger_reject_change()`, the statement-level
  double-entry check `ledger_check_statement_balanced()`), from the live
  definitions, calling the real trigger functions. Those name
  `ledger_posting` unqualified, so the timed transaction puts the scratch
  schema first on its search path: the balance check reads the scratch
  postings, as the real one reads the real ones.
- Pre-filled with every event and posting already in the ledger before the
  month (untimed, then analyzed), so the month's rows meet indexes of their
  real size and go after the log's real positions and posting ids.
- The read models: a scratch `servicing_loanposition` (all the positions)
  and `servicing_collectionline` (the lines before the month), shaped alike.
  In the timed transaction, after the COPY of the events and postings, one
  `UPDATE ... FROM` of as many positions as the month moved (every loan whose
  stream has an event in the month: what the position projection writes
  back), setting the columns a payment moves (`PAYMENT_MOVES`), and one
  `INSERT` of the month's collection lines. Their new values are the
  positions and lines as they stand after the month, staged in the scratch
  schema on the server before the clock starts: the floor counts neither
  their transfer nor any Python for them (it is a floor).

Left out, so the floor is lower than the real need: the other read models
the append keeps (account balance slots, stream heads, the log position
counter, the trusts' and the close's tables). One transaction, through
commit, as an append's. The scratch schema is dropped at the end, also on
error; anything but PostgreSQL is refused, as the COPY limit refuses it.
"""
from __future__ import annotations

import re
import time

from django.db import connection
from django.utils import timezone

from benchmarks import copy_limit
from benchmarks.copy_limit import CHUNK, CopyLimitUnavailable, WrittenRows, _RowSpec, stream_rows
from ledger.models import Event, Posting
from servicing.models import CollectionLine, LoanPosition

SCHEMA = "bench_floor"
LEDGER_MODELS = (Event, Posting)
READ_MODELS = (LoanPosition, CollectionLine)
# The position columns a payment moves (servicing.events.PaymentPosted.apply_decision: the balances of
# PaymentApplied.balance_changes, the due date, the last payment date) and the two every loan event moves.
PAYMENT_MOVES = ("principal_balance_cents", "suspense_cents", "escrow_balance_cents", "escrow_advance_cents",
                 "late_charges_due_cents", "fees_due_cents", "next_due_date", "last_payment_date",
                 "stream_version", "last_position")
MOVES_TABLE = f"{SCHEMA}.position_moves"
LINES_TABLE = f"{SCHEMA}.month_collection_lines"


class FloorUnavailable(CopyLimitUnavailable):
    """The database floor can only be measured on PostgreSQL, outside a transaction."""


def database_floor(*, events: int, postings: int, sample: WrittenRows, after_position: int,
                   chunk: int = CHUNK) -> dict:
    """COPY the COPY limit's rows into guarded tables after the log's rows, with the read models; time it.

    Returns {"events", "postings", "positions", "collection_lines", "seconds" (through commit),
    "ledger_seconds" (the two COPYs with their indexes, keys and triggers), "read_models_seconds"
    (the positions' update and the lines' insert), "commit_seconds", "rows_per_second",
    "prefilled_events", "prefilled_postings", "guards" (the scratch tables' triggers, foreign keys and
    indexes, as built from the live ones)}. The counts are read back from the scratch tables.
    """
    _require_postgres()
    if events < 1 or postings < 0 or chunk < 1:
        raise ValueError("the floor needs at least one event, zero or more postings and a chunk of at least 1")
    if not sample.event_rows:
        raise ValueError("the sample of written rows is empty: the floor copies the month's own rows")
    connection.ensure_connection()
    raw = connection.connection
    try:
        prefilled = _build(raw, after_position)
        spec = _RowSpec(events=events, postings=postings, payload_bytes=0, chunk=chunk,
                        recorded_at=timezone.now(), sample=sample, first_position=after_position + 1,
                        first_posting_id=prefilled["last_posting_id"] + 1, tables_in=SCHEMA)
        timings = _append(raw, spec)
        copied = _copied(raw, spec, after_position)
        if (copied["events"], copied["postings"]) != (events, postings):
            raise RuntimeError(f"the floor's tables hold {copied['events']} events and {copied['postings']} "
                               f"postings of the month, not {events} and {postings}")
        if copied["collection_lines"] != prefilled["collection_lines"] or \
                timings["positions"] != prefilled["positions"]:
            raise RuntimeError("the floor's read models did not take every staged row")
        return {"events": events, "postings": postings, "positions": timings["positions"],
                "collection_lines": copied["collection_lines"], "seconds": timings["seconds"],
                "ledger_seconds": timings["ledger_seconds"], "read_models_seconds": timings["read_models_seconds"],
                "commit_seconds": timings["commit_seconds"],
                "rows_per_second": (events + postings) / timings["seconds"] if timings["seconds"] > 0 else 0.0,
                "prefilled_events": prefilled["events"], "prefilled_postings": prefilled["postings"],
                "guards": _guards(raw)}
    finally:
        _drop_schema(raw)


def scratch_schema_exists() -> bool:
    """Whether the floor's scratch schema is there (it should not be, outside a run)."""
    return copy_limit.scratch_schema_exists(SCHEMA)


def _require_postgres() -> None:
    copy_limit.require_postgres("the database floor", FloorUnavailable)


def _drop_schema(raw) -> None:
    copy_limit.drop_schema(raw, SCHEMA)


# --- The scratch tables, shaped like the live ones --------------------------------------------------------


def _build(raw, after_position: int) -> dict:
    """The scratch schema: the four tables like the live ones, pre-filled, then their keys and triggers.

    Filled before the foreign keys and triggers are added (each added key checks the rows once), then
    analyzed, as the live tables are. The read models' new rows are staged beside them. Autocommit.
    """
    event, posting, position, line = (m._meta.db_table for m in (*LEDGER_MODELS, *READ_MODELS))
    event_of = Posting._meta.get_field("event").column
    with raw.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        cursor.execute(f"CREATE SCHEMA {SCHEMA}")
        for table in (event, posting, position, line):
            cursor.execute(f"CREATE TABLE {SCHEMA}.{table} (LIKE {table} INCLUDING ALL)")
        # The live tables' own names, values bound: the log before the month, every position, the lines before.
        cursor.execute(f"INSERT INTO {SCHEMA}.{event} SELECT * FROM {event} WHERE position <= %s",  # nosec B608
                       [after_position])
        cursor.execute(f"INSERT INTO {SCHEMA}.{posting} SELECT * FROM {posting} "  # nosec B608
                       f"WHERE {event_of} <= %s", [after_position])
        cursor.execute(f"INSERT INTO {SCHEMA}.{position} SELECT * FROM {position}")  # nosec B608
        cursor.execute(f"INSERT INTO {SCHEMA}.{line} SELECT * FROM {line} WHERE event_position <= %s",  # nosec B608
                       [after_position])
        for table in (event, posting):
            for sql in _foreign_keys(cursor, table) + _triggers(cursor, table):
                cursor.execute(sql)
        # The read models' rows of the month, staged: the positions of the loans the month moved, as they
        # stand after it; the month's collection lines.
        moves = ", ".join(f'"{LoanPosition._meta.get_field(name).column}"' for name in PAYMENT_MOVES)
        cursor.execute(f"CREATE UNLOGGED TABLE {MOVES_TABLE} AS SELECT loan_id, {moves} FROM {position} "  # nosec B608
                       f"WHERE loan_id IN (SELECT DISTINCT split_part(stream, ':', 2) FROM {event} "
                       "WHERE position > %s AND stream LIKE 'loan:%%')", [after_position])
        cursor.execute(f"CREATE UNLOGGED TABLE {LINES_TABLE} AS SELECT * FROM {line} "  # nosec B608
                       "WHERE event_position > %s", [after_position])
        for table in (event, posting, position, line):
            cursor.execute(f"ANALYZE {SCHEMA}.{table}")
        cursor.execute(f"ANALYZE {MOVES_TABLE}")
        cursor.execute(f"ANALYZE {LINES_TABLE}")
        figures = {}
        for name, sql in (("events", f"SELECT count(*) FROM {SCHEMA}.{event}"),
                          ("postings", f"SELECT count(*) FROM {SCHEMA}.{posting}"),
                          ("last_posting_id", f"SELECT COALESCE(max(id), 0) FROM {posting}"),
                          ("positions", f"SELECT count(*) FROM {MOVES_TABLE}"),
                          ("collection_lines", f"SELECT count(*) FROM {LINES_TABLE}")):
            cursor.execute(sql)  # this module's names # nosec B608
            figures[name] = cursor.fetchone()[0]
    return figures


def _foreign_keys(cursor, table: str) -> list[str]:
    """The live table's foreign keys for the scratch one; those to a ledger table point at its scratch copy."""
    ledger = {m._meta.db_table for m in LEDGER_MODELS}
    cursor.execute("SELECT conname, pg_get_constraintdef(oid), confrelid::regclass::text FROM pg_constraint "
                   "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname", [table])
    statements = []
    for name, definition, target in cursor.fetchall():
        bare = target.rsplit(".", 1)[-1].strip('"')
        if bare in ledger:
            definition, found = re.subn(rf"REFERENCES {re.escape(target)}\(", f"REFERENCES {SCHEMA}.{bare}(",
                                        definition)
            if found != 1:
                raise RuntimeError(f"cannot point {name} at the scratch {bare}: {definition}")
        statements.append(f'ALTER TABLE {SCHEMA}.{table} ADD CONSTRAINT "{name}" {definition}')
    return statements


def _triggers(cursor, table: str) -> list[str]:
    """The live table's own triggers (not the foreign keys' internal ones), on the scratch table."""
    cursor.execute("SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = %s::regclass "
                   "AND NOT tgisinternal ORDER BY tgname", [table])
    statements = []
    for name, definition in cursor.fetchall():
        definition, found = re.subn(rf" ON (?:\S+\.)?{re.escape(table)} ", f" ON {SCHEMA}.{table} ", definition)
        if found != 1:
            raise RuntimeError(f"cannot put trigger {name} on the scratch {table}: {definition}")
        statements.append(definition)
    return statements


def _guards(raw) -> dict:
    """The scratch ledger tables' triggers, foreign keys and indexes (to show what the floor paid for)."""
    tables = [f"{SCHEMA}.{m._meta.db_table}" for m in LEDGER_MODELS]
    with raw.cursor() as cursor:
        cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = ANY(%s::regclass[]) AND NOT tgisinternal "
                       "ORDER BY tgname", [tables])
        triggers = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT count(*) FROM pg_constraint WHERE conrelid = ANY(%s::regclass[]) AND contype = 'f'",
                       [tables])
        foreign_keys = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM pg_index WHERE indrelid = ANY(%s::regclass[])", [tables])
        indexes = cursor.fetchone()[0]
    return {"triggers": triggers, "foreign_keys": foreign_keys, "indexes": indexes}


# --- The timed append -------------------------------------------------------------------------------------


def _append(raw, spec: _RowSpec) -> dict:
    """Events and postings streamed as the COPY limit streams them, then the read models; one transaction."""
    position, line = (m._meta.db_table for m in READ_MODELS)
    sets = ", ".join(f'"{column}" = m."{column}"' for column in
                     (LoanPosition._meta.get_field(name).column for name in PAYMENT_MOVES))
    started = time.perf_counter()
    with raw.transaction(), raw.cursor() as cursor:
        # The trigger functions name ledger_posting unqualified: the scratch one, for this transaction.
        cursor.execute(f"SET LOCAL search_path TO {SCHEMA}, public")
        stream_rows(cursor, spec)
        ledger_done = time.perf_counter()
        cursor.execute(f"UPDATE {SCHEMA}.{position} AS t SET {sets} FROM {MOVES_TABLE} AS m "  # nosec B608
                       "WHERE t.loan_id = m.loan_id")  # this module's names and the model's columns
        positions = cursor.rowcount
        cursor.execute(f"INSERT INTO {SCHEMA}.{line} SELECT * FROM {LINES_TABLE}")  # nosec B608
        read_models_done = time.perf_counter()
    ended = time.perf_counter()
    return {"seconds": ended - started, "ledger_seconds": ledger_done - started,
            "read_models_seconds": read_models_done - ledger_done, "commit_seconds": ended - read_models_done,
            "positions": positions}


def _copied(raw, spec: _RowSpec, after_position: int) -> dict:
    """The month's rows found in the scratch tables after the commit."""
    event, posting, _, line = (m._meta.db_table for m in (*LEDGER_MODELS, *READ_MODELS))
    with raw.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {SCHEMA}.{event} WHERE position > %s", [after_position])  # nosec B608
        events = cursor.fetchone()[0]
        cursor.execute(f"SELECT count(*) FROM {SCHEMA}.{posting} WHERE id >= %s",  # nosec B608
                       [spec.first_posting_id])
        postings = cursor.fetchone()[0]
        cursor.execute(f"SELECT count(*) FROM {SCHEMA}.{line} WHERE event_position > %s",  # nosec B608
                       [after_position])
        lines = cursor.fetchone()[0]
    return {"events": events, "postings": postings, "collection_lines": lines}
