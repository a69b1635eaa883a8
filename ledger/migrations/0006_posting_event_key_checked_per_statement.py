"""The posting -> event foreign key checked per statement, not row by row at commit.

Django creates every PostgreSQL foreign key DEFERRABLE INITIALLY DEFERRED, so
each posting's check waits in a queue until COMMIT and then runs once per row:
for a month of collections that is millions of queued checks at commit, after
the work. The writer never needs the delay: `ledger.services._insert` (the one
writer of postings) always inserts an append's events before their postings,
in the same transaction (COPY of events, then COPY of postings; on SQLite the
same order with bulk_create), so every posting's event exists when its own
statement ends. NOT DEFERRABLE makes PostgreSQL check the key at the end of
each INSERT or COPY statement, where it can batch the look-ups.

Django's migration state does not record deferrability: a later migration that
alters `Posting.event` would recreate the key DEFERRABLE again; this one (or a
copy of it) must then follow. PostgreSQL only; SQLite's foreign keys are its
own business and stay as they are.
"""
from django.db import migrations

# Found by the tables it joins, not by Django's hashed name.
FIND_KEY = """
    SELECT conname FROM pg_constraint
    WHERE contype = 'f' AND conrelid = 'ledger_posting'::regclass AND confrelid = 'ledger_event'::regclass
"""


def _alter(deferrable: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(FIND_KEY)
            for (name,) in cursor.fetchall():
                cursor.execute(f'ALTER TABLE ledger_posting ALTER CONSTRAINT "{name}" {deferrable}')  # nosec B608: a name from the catalogue

    return run


class Migration(migrations.Migration):
    dependencies = [("ledger", "0005_refresh_statistics_as_owner")]
    operations = [migrations.RunPython(_alter("NOT DEFERRABLE"), _alter("DEFERRABLE INITIALLY DEFERRED"))]
