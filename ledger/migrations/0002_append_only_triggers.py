"""Install the database's guard over the log and the position counter's row."""
from django.db import migrations

from ledger.db_triggers import install_sql, remove_sql


def _run(schema_editor, statements):
    # A plain cursor: the trigger bodies hold '%' placeholders of RAISE, not of Python.
    with schema_editor.connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def install(apps, schema_editor):
    _run(schema_editor, install_sql(schema_editor.connection.vendor))
    _run(schema_editor, ["INSERT INTO ledger_logposition (id, last_position) VALUES (1, 0)"])


def remove(apps, schema_editor):
    _run(schema_editor, remove_sql(schema_editor.connection.vendor))


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]
    operations = [migrations.RunPython(install, remove)]
