"""The balance check once per statement instead of once per posting row at commit.

See ledger/db_triggers.py (BALANCE_FUNCTION) for why; the rule it enforces
is the same or stricter. PostgreSQL only: SQLite never had this trigger
(the append service checks balance before writing on every database).
"""
from django.db import migrations

from ledger.db_triggers import BALANCE_FUNCTION, BALANCE_TRIGGER, ROW_LEVEL_BALANCE_REMOVE

ROW_LEVEL_INSTALL = [
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
    """
    CREATE CONSTRAINT TRIGGER ledger_posting_balanced AFTER INSERT ON ledger_posting
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_event_balanced()
    """,
]


def _run(schema_editor, statements):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def forward(apps, schema_editor):
    _run(schema_editor, [*ROW_LEVEL_BALANCE_REMOVE, BALANCE_FUNCTION, BALANCE_TRIGGER])


def backward(apps, schema_editor):
    _run(schema_editor, ["DROP TRIGGER IF EXISTS ledger_posting_balanced ON ledger_posting",
                         "DROP FUNCTION IF EXISTS ledger_check_statement_balanced()", *ROW_LEVEL_INSTALL])


class Migration(migrations.Migration):
    dependencies = [("ledger", "0003_nightly_verification_schedule")]
    operations = [migrations.RunPython(forward, backward)]
