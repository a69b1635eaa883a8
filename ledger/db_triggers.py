"""The database's own guard over the log: SQL for PostgreSQL and SQLite.

Immutability: UPDATE, DELETE and TRUNCATE of events and postings are
rejected by triggers, so no code path (raw SQL, QuerySet.update, bulk_update,
the admin) can change a recorded fact. Balance: on PostgreSQL a deferred
constraint trigger checks at commit that every event's postings sum to zero.

The migration that installs these imports them from here; change them only
with a new migration.
"""

APPEND_ONLY_TABLES = ("ledger_event", "ledger_posting")

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
    """
    CREATE OR REPLACE FUNCTION ledger_check_event_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        total numeric;
    BEGIN
        SELECT COALESCE(SUM(amount_cents), 0) INTO total FROM ledger_posting WHERE event_id = NEW.event_id;
        IF total <> 0 THEN
            RAISE EXCEPTION 'ledger: the postings of event % sum to % cents, not zero', NEW.event_id, total
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END
    $$
    """,
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
    """
    CREATE CONSTRAINT TRIGGER ledger_posting_balanced AFTER INSERT ON ledger_posting
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_event_balanced()
    """,
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
    "DROP FUNCTION IF EXISTS ledger_check_event_balanced()",
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
