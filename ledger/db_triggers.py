"""The database's own guard over the log: SQL for PostgreSQL and SQLite.

Immutability: UPDATE, DELETE and TRUNCATE of events and postings are
rejected by triggers, so no code path (raw SQL, QuerySet.update, bulk_update,
the admin) can change a recorded fact. Balance: on PostgreSQL a statement-level
trigger checks that every event an INSERT touched sums to zero (see below).

The migration that installs these imports them from here; change them only
with a new migration.
"""

APPEND_ONLY_TABLES = ("ledger_event", "ledger_posting")

# The balance check runs once per INSERT (or COPY) statement over the rows it
# added, not once per row at commit: a month of a million loans writes
# millions of postings, and a row-level check cost three times the insert
# itself. Every statement must leave each event it touches summing to zero;
# since postings can never be changed or removed afterwards, every event is
# balanced at every commit, as before (and the rule is stricter: no statement
# may leave an event half-posted even for a moment).
BALANCE_FUNCTION = """
    CREATE OR REPLACE FUNCTION ledger_check_statement_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        low bigint;
        high bigint;
        unbalanced record;
    BEGIN
        -- Every event from the lowest to the highest one touched: a superset (each must sum to
        -- zero anyway) read by one range scan of the event index, as an append's events are
        -- consecutive; a lookup per touched event cost as much again as the insert itself.
        SELECT MIN(event_id), MAX(event_id) INTO low, high FROM new_postings;
        SELECT p.event_id, SUM(p.amount_cents) AS total INTO unbalanced
        FROM ledger_posting p
        WHERE p.event_id BETWEEN low AND high
        GROUP BY p.event_id HAVING SUM(p.amount_cents) <> 0
        ORDER BY p.event_id LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'ledger: the postings of event % sum to % cents, not zero',
                unbalanced.event_id, unbalanced.total
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END
    $$
"""
BALANCE_TRIGGER = """
    CREATE TRIGGER ledger_posting_balanced AFTER INSERT ON ledger_posting
    REFERENCING NEW TABLE AS new_postings FOR EACH STATEMENT EXECUTE FUNCTION ledger_check_statement_balanced()
"""
# What migration 0004 replaced: the deferred row-level constraint trigger.
ROW_LEVEL_BALANCE_REMOVE = [
    "DROP TRIGGER IF EXISTS ledger_posting_balanced ON ledger_posting",
    "DROP FUNCTION IF EXISTS ledger_check_event_balanced()",
]

POSTGRES_INSTALL = [
    """
    CREATE OR REPLACE FUNCTION ledger_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'ledger: % on % is forbidden: the event log is append-only; record a correcting event instead',
            TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
    END
    $$
    """,
    BALANCE_FUNCTION,
    *[
        sql
        for table in APPEND_ONLY_TABLES
        for sql in (
            f"CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION ledger_reject_change()",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION ledger_reject_change()",
        )
    ],
    BALANCE_TRIGGER,
]

POSTGRES_REMOVE = [
    "DROP TRIGGER IF EXISTS ledger_posting_balanced ON ledger_posting",
    *[
        sql
        for table in APPEND_ONLY_TABLES
        for sql in (
            f"DROP TRIGGER IF EXISTS {table}_no_update_delete ON {table}",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
        )
    ],
    "DROP FUNCTION IF EXISTS ledger_check_statement_balanced()",
    "DROP FUNCTION IF EXISTS ledger_reject_change()",
]

# SQLite has no TRUNCATE: a DELETE without WHERE fires the DELETE trigger
# (SQLite skips its truncate optimisation when a table has triggers).
SQLITE_INSTALL = [
    sql
    for table in APPEND_ONLY_TABLES
    for op in ("UPDATE", "DELETE")
    for sql in (
        f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} BEGIN "
        f"SELECT RAISE(ABORT, 'ledger: {op} on {table} is forbidden: the event log is append-only; "
        f"record a correcting event instead'); END",
    )
]

SQLITE_REMOVE = [
    f"DROP TRIGGER IF EXISTS {table}_no_{op.lower()}" for table in APPEND_ONLY_TABLES for op in ("UPDATE", "DELETE")
]


def install_sql(vendor: str) -> list[str]:
    return {"postgresql": POSTGRES_INSTALL, "sqlite": SQLITE_INSTALL}[vendor]


def remove_sql(vendor: str) -> list[str]:
    return {"postgresql": POSTGRES_REMOVE, "sqlite": SQLITE_REMOVE}[vendor]
