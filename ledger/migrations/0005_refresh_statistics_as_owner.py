"""The month-end's statistics refresh, callable by the runtime role.

PostgreSQL lets only a table's owner ANALYZE it, and the application runs as a
role that owns nothing (see ledger/db_roles.py). This function is owned by the
role that migrates and runs as that owner (SECURITY DEFINER) for one purpose:
ANALYZE the tables named, nothing else. Its search_path is pinned to the schema
it was created in, so a caller cannot point it at a table of its own making.
PostgreSQL only: SQLite's ANALYZE needs no privilege.
"""
from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION ledger_refresh_statistics(table_names text[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    table_name text;
BEGIN
    FOREACH table_name IN ARRAY table_names LOOP
        EXECUTE format('ANALYZE %I', table_name);
    END LOOP;
END
$$
"""
DROP = "DROP FUNCTION IF EXISTS ledger_refresh_statistics(text[])"


def _run(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(sql)  # no parameters: the body's %I is format()'s, not the driver's
    return run


class Migration(migrations.Migration):
    dependencies = [("ledger", "0004_statement_level_balance_check")]
    operations = [migrations.RunPython(_run(CREATE), _run(DROP))]
