"""Set-based writes for the log and the read models: COPY and single-statement upserts.

On PostgreSQL a batch of any size is written in a constant number of
statements: rows stream in with COPY, read-model rows are updated from one
JSON parameter holding every row (`UPDATE ... FROM jsonb_array_elements(...)`),
and sums are upserted the same way.
That is what keeps a month of a million loans close to what the database can
ingest: the cost per row is the database's, not Python's or the ORM's.

Elsewhere (SQLite, the embedded default) the same calls fall back to the
ORM's bulk operations, so callers never branch on the database.

COPY is invisible to Django's query log, so each helper records what it ran
there when the log is on: query counters (tests) see every statement.
"""
from __future__ import annotations

import gc
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal

import orjson
from django.db import connection, models
from django.db.models.fields import AutoFieldMixin

from ledger.domain.hashing import canonical_json


@contextmanager
def cycle_collector_paused() -> Iterator[None]:
    """Hold Python's cycle collector off while a batch is built and written; it runs again after.

    A month's collections allocates some millions of objects (positions,
    facts, payloads, records) that all live until the batch is written, so
    the collector, triggered every few hundred allocations, walks a heap that
    keeps growing and finds nothing to free: 1.3 s of a 4.5 s file of 20,000
    payments. Reference counting frees everything as usual meanwhile; only
    cycles wait for the collector's next run. Nested or concurrent pauses
    leave it on once the first one to pause it ends.
    """
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _log(sql: str, started: float) -> None:
    if connection.queries_logged:
        connection.queries_log.append({"sql": sql, "time": f"{time.monotonic() - started:.3f}"})


def execute_bound(sql: str, params: Sequence) -> None:
    """Run one statement with server-side parameters (PostgreSQL only).

    Django's psycopg cursors bind on the client, quoting every value in
    Python; a statement carrying arrays of thousands of values is sent with
    binary parameters instead, dumped by the driver's C code.
    """
    import psycopg

    started = time.monotonic()
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params)
    _log(sql, started)


def fetch_bound(sql: str, params: Sequence) -> list[tuple]:
    """`execute_bound` for a query: its rows (PostgreSQL only).

    A look-up of thousands of keys goes as one array parameter (`= ANY(%s)`),
    bound by the driver in binary: an IN list of that size costs more to
    build and quote in Python than the query costs the database.
    """
    import psycopg

    started = time.monotonic()
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    _log(sql, started)
    return rows


def among(values: Iterable, sql_type: str = "varchar"):
    """What a queryset's `__in` takes for thousands of keys: one JSON parameter on PostgreSQL, a list elsewhere.

    Django writes `loan_id__in=[...]` as one placeholder a key, and the driver
    parses a query text of 20,000 placeholders in Python (0.07 s a query); a
    sub-select of the keys from one JSON text is one placeholder whatever the
    count. `sql_type` is the keys' column type (they come out of the JSON as text).
    """
    keys = list(values)
    if not is_postgres():
        return keys
    from django.db.models.expressions import RawSQL

    return RawSQL(f"SELECT (jsonb_array_elements_text(%s::jsonb))::{sql_type}",  # a type name, values bound # nosec B608
                  [orjson.dumps(keys).decode()])


def copy_rows(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence], *,
              json_checked: bool = False) -> int:
    """Insert rows (values in `columns` order) in one COPY; JSON columns take Python values.

    PostgreSQL only; see `insert_rows` for the portable call. json_checked: the
    JSON values passed `ledger.domain.validation.check_payload` (no floats), so
    they are written without the walk (`ledger.domain.hashing.canonical_json`).
    """
    meta = model._meta
    json_at = [i for i, name in enumerate(columns) if isinstance(meta.get_field(name), models.JSONField)]
    names = [meta.get_field(name).column for name in columns]
    sql = f"COPY {meta.db_table} ({', '.join(names)}) FROM STDIN"
    started, count = time.monotonic(), 0
    connection.ensure_connection()
    with connection.cursor() as wrapper, wrapper.cursor.copy(sql) as copy:
        for row in rows:
            if json_at:
                row = list(row)
                for i in json_at:
                    # orjson where it writes what the standard library would (see ledger.domain.hashing).
                    row[i] = canonical_json(row[i], checked=json_checked)
            copy.write_row(row)
            count += 1
    _log(f"{sql} -- {count} rows", started)
    return count


def insert_rows(model: type[models.Model], objects: Sequence[models.Model], *, batch_size: int = 2000) -> None:
    """Insert new model instances: one COPY on PostgreSQL, bulk_create elsewhere.

    Instances get no primary key back from COPY: use it where the caller does
    not need them (the log, projections keyed by natural keys).
    """
    if not objects:
        return
    if not is_postgres():
        model.objects.bulk_create(objects, batch_size=batch_size)
        return
    fields = [f for f in model._meta.concrete_fields if not isinstance(f, AutoFieldMixin)]
    copy_rows(model, [f.name for f in fields],
              ([_db_value(f, getattr(obj, f.attname)) for f in fields] for obj in objects))


def update_rows(model: type[models.Model], objects: Sequence[models.Model], fields: Sequence[str],
                *, batch_size: int = 1000) -> None:
    """Write `fields` of existing instances back: one UPDATE ... FROM the rows as JSON on PostgreSQL.

    Django's bulk_update builds a CASE per field per row, which grows with
    the batch; one JSON parameter keeps the statement the same size whatever the batch.
    """
    if not objects:
        return
    if not is_postgres():
        model.objects.bulk_update(objects, fields, batch_size=batch_size)
        return
    meta = model._meta
    pk = meta.pk
    targets = [meta.get_field(name) for name in fields]
    columns = [pk, *targets]
    names = [f.attname for f in columns]
    source, rows = rows_source([_sql_type(f) for f in columns],
                               [[getattr(obj, name) for name in names] for obj in objects])
    sets = ", ".join(f'"{f.column}" = v.c{i}' for i, f in enumerate(targets, start=1))
    sql = (f'UPDATE "{meta.db_table}" AS t SET {sets} FROM ({source}) AS v '  # names from _meta, values bound # nosec B608
           f'WHERE t."{pk.column}" = v.c0')
    execute_bound(sql, [rows])


def rows_source(types: Sequence[str], rows: Sequence[Sequence]) -> tuple[str, str]:
    """A SELECT of `rows` (columns c0, c1, ... of the SQL `types`) and its one parameter (PostgreSQL only).

    The rows travel as one JSON text written by orjson's C code, which the
    server takes apart: an array parameter per column cost the driver about a
    microsecond a value in Python (20,000 positions of 8 columns, 0.2 s). Rows
    come out in the order given (upserts rely on it to lock rows in order).
    JSON null is SQL NULL; dates and datetimes go as ISO text, Decimals as text.
    """
    columns = ", ".join(f"(r->>{i})::{t} AS c{i}" for i, t in enumerate(types))
    text = orjson.dumps(rows, default=_json_default).decode()
    return f"SELECT {columns} FROM jsonb_array_elements(%s::jsonb) AS r", text  # types: code's names # nosec B608


def _json_default(value):
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} cannot be sent as a row value")


def _sql_type(field: models.Field) -> str:
    target = field.target_field if field.is_relation else field
    return target.db_type(connection)


def _db_value(field: models.Field, value):
    # Text choices are str subclasses; the driver wants the plain value.
    if isinstance(value, str) and type(value) is not str:
        return str(value)
    return value


def upsert_sums(table: str, key: str | Sequence[str], sums: Sequence[str], rows: Sequence[tuple], *,
                replace: Sequence[str] = (), replace_types: Sequence[str] | None = None,
                key_types: Sequence[str] | None = None) -> None:
    """Add rows of (*key, *amounts, *replacements) onto existing rows, or insert them: one statement.

    `key` is one column or several (`key_types` their SQL types, varchar by
    default); `sums` columns are added to what is stored; `replace` columns
    take the new value (`replace_types` their SQL types, bigint by default).
    Rows are taken in the order given: callers sort them, so that concurrent
    writers lock rows in the same order and cannot deadlock.
    """
    if not rows:
        return
    keys = [key] if isinstance(key, str) else list(key)
    columns = [*keys, *sums, *replace]
    updates = [f"{c} = {table}.{c} + excluded.{c}" for c in sums] + [f"{c} = excluded.{c}" for c in replace]
    conflict = ", ".join(keys)
    if is_postgres():
        types = [*(key_types or ["varchar"] * len(keys)), *["bigint"] * len(sums),
                 *(replace_types or ["bigint"] * len(replace))]
        source, text = rows_source(types, rows)
        execute_bound(f"INSERT INTO {table} ({', '.join(columns)}) {source} "  # code's names, values bound # nosec B608
                      f"ON CONFLICT ({conflict}) DO UPDATE SET {', '.join(updates)}", [text])
        return
    placeholders = ", ".join(["%s"] * len(columns))
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders}) "  # code's names, values bound # nosec B608
                           f"ON CONFLICT ({conflict}) DO UPDATE SET {', '.join(updates)}", rows)


def analyze(*tables: type[models.Model]) -> None:
    """Refresh the planner's statistics of these tables (after a bulk load, before heavy reads).

    A month's collections can double the log in an hour; until statistics are
    refreshed the planner may guess a few hundred account look-ups to be a
    large share of the postings and scan them all (seen: 0.9 s a close instead
    of 0.1 s at a million loans). Autovacuum would get there in its own time.
    """
    names = [model._meta.db_table for model in tables]
    with connection.cursor() as cursor:
        if is_postgres():
            # Through the owner's function (ledger migration 0005): the runtime role owns no table.
            cursor.execute("SELECT ledger_refresh_statistics(%s)", [names])
            return
        for name in names:
            cursor.execute(f'ANALYZE "{name}"')  # nosec B608: names from model _meta

