"""Indexes no query needs, dropped from the log: each one is written for every event.

docs/SCHEMA.md lists every index left on the hot tables and the query that
needs it. Dropped here:
- `event_type` (and its LIKE copy): every query by type also names its streams
  (served by the stream-version index) or a window of positions (the primary
  key); the two checks of `verify_ledger` that do not read the log in full anyway;
- `acting_user_id`: nothing looks events up by who recorded them;
- the LIKE copies (varchar_pattern_ops) Django adds beside a unique or key text
  column, on `idempotency_key` and the stream heads' `name`: both are only ever
  looked up by equality or IN (PostgreSQL only; SQLite never had them).
SQLite rebuilds the event table to alter its columns, losing its append-only
triggers: they are installed again right after.
"""
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from ledger.db_triggers import install_sql, remove_sql

LIKE_COPIES = (("ledger_event", "idempotency_key"), ("ledger_stream", "name"))

# Django names them <table>_<column>_<hash>_like; found in the catalogue rather than hard-coded.
FIND = """
    SELECT i.indexname FROM pg_indexes i
    WHERE i.schemaname = current_schema() AND i.tablename = %s
      AND i.indexname LIKE %s AND i.indexdef LIKE '%%varchar_pattern_ops%%'
"""


def drop_like_copies(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for table, column in LIKE_COPIES:
            cursor.execute(FIND, [table, f"{table}_{column}_%_like"])
            for (name,) in cursor.fetchall():
                cursor.execute(f'DROP INDEX IF EXISTS "{name}"')  # nosec B608: a name from the catalogue


def sqlite_guard_again(apps, schema_editor):
    """SQLite alters a column by copying the table into a new one, which drops its triggers: put them back."""
    if schema_editor.connection.vendor != "sqlite":
        return
    with schema_editor.connection.cursor() as cursor:
        for sql in [*remove_sql("sqlite"), *install_sql("sqlite")]:
            cursor.execute(sql)


def put_like_copies_back(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for table, column in LIKE_COPIES:
            cursor.execute(f'CREATE INDEX IF NOT EXISTS "{table}_{column}_like" '  # nosec B608: names from this file
                           f'ON "{table}" ("{column}" varchar_pattern_ops)')


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0006_posting_event_key_checked_per_statement"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]
    operations = [
        migrations.AlterField(model_name="event", name="event_type", field=models.CharField(max_length=100)),
        migrations.AlterField(
            model_name="event", name="acting_user",
            field=models.ForeignKey(blank=True, db_index=False, null=True,
                                    on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to=settings.AUTH_USER_MODEL),
        ),
        migrations.RunPython(sqlite_guard_again, sqlite_guard_again),
        migrations.RunPython(drop_like_copies, put_like_copies_back),
    ]
