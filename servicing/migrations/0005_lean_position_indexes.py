"""Fewer indexes on the loan positions and collection lines, which every payment writes.

docs/SCHEMA.md lists each index left and the query that needs it. Here:
- `LoanPosition.next_due_date` loses its index: every payment moves the due
  date, so with it indexed no position update could be a HOT update (one that
  writes no index at all); the daily autopay scan and the staff's sort by due
  date read the table instead;
- the LIKE copies (varchar_pattern_ops) Django adds beside the position's
  loan number, status and delinquency bucket go: those are only compared by
  equality or IN (PostgreSQL only);
- `CollectionLine.loan` loses its own index (and LIKE copy):
  `collection_line_loan_date` starts with the loan and serves the same look-ups;
- the positions' table keeps 15% of each page free (fillfactor 85) so that a
  payment's update fits beside the row it replaces: a HOT update, with no new
  index entries (PostgreSQL only; rows written before this migration gain it
  when their table is next rewritten, e.g. VACUUM FULL).
"""
import django.db.models.deletion
from django.db import migrations, models

LIKE_COPIES = (("servicing_loanposition", "loan_id"), ("servicing_loanposition", "status"),
               ("servicing_loanposition", "delinquency_bucket"))
FIND = """
    SELECT indexname FROM pg_indexes
    WHERE schemaname = current_schema() AND tablename = %s
      AND indexname LIKE %s AND indexdef LIKE '%%varchar_pattern_ops%%'
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for table, column in LIKE_COPIES:
            cursor.execute(FIND, [table, f"{table}_{column}_%_like"])
            for (name,) in cursor.fetchall():
                cursor.execute(f'DROP INDEX IF EXISTS "{name}"')  # nosec B608: a name from the catalogue
        cursor.execute("ALTER TABLE servicing_loanposition SET (fillfactor = 85)")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("ALTER TABLE servicing_loanposition RESET (fillfactor)")
        for table, column in LIKE_COPIES:
            cursor.execute(f'CREATE INDEX IF NOT EXISTS "{table}_{column}_like" '  # nosec B608: names from this file
                           f'ON "{table}" ("{column}" varchar_pattern_ops)')


class Migration(migrations.Migration):
    dependencies = [("servicing", "0004_reference_rows_from_the_log")]
    operations = [
        migrations.AlterField(
            model_name="collectionline", name="loan",
            field=models.ForeignKey(db_constraint=False, db_index=False,
                                    on_delete=django.db.models.deletion.DO_NOTHING,
                                    related_name="collection_lines", to="servicing.loan"),
        ),
        migrations.AlterField(model_name="loanposition", name="next_due_date", field=models.DateField()),
        migrations.RunPython(forward, backward),
    ]
