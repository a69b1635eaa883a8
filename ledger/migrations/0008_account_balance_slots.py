"""Account balances in slots: a hot account spread over several rows, read as one sum.

The balances move to `ledger_accountbalanceslot` (key: account, slot); every
row already stored becomes slot 0 of its account. `ledger_accountbalance`
becomes a view summing each account's slots, so every reader, the ORM's
`AccountBalance` and raw SQL alike, still sees one row per account. Why: see
`AccountBalanceSlot` in ledger/models.py.

The view's SQL is the same on PostgreSQL and SQLite. On PostgreSQL a filter
on the account (equality, IN, a prefix) is pushed through the GROUP BY to the
slot table's key. A runtime role (ledger/db_roles.py) may write the new table
once `grant_runtime_role` has run again after this migration. The slots and
the stream heads, updated in place by every append, keep 15% of each page
free (fillfactor) so an update fits beside its row without new index entries.
"""
from django.db import migrations, models

VIEW = """
    CREATE VIEW ledger_accountbalance AS
    SELECT account,
           CAST(SUM(balance_cents) AS BIGINT) AS balance_cents,
           CAST(SUM(posting_count) AS BIGINT) AS posting_count,
           MAX(last_position) AS last_position
    FROM ledger_accountbalanceslot
    GROUP BY account
"""


# Rows updated in place by every append: keep room on each page for the new
# version of a row, so the update is HOT (no index entry written). PostgreSQL only.
ROOM_FOR_UPDATES = ["ALTER TABLE ledger_accountbalanceslot SET (fillfactor = 85)",
                    "ALTER TABLE ledger_stream SET (fillfactor = 85)"]
NO_ROOM = ["ALTER TABLE ledger_stream RESET (fillfactor)"]


def _postgres_only(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            with schema_editor.connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("ledger", "0007_lean_log_indexes")]
    operations = [
        migrations.CreateModel(
            name="AccountBalanceSlot",
            fields=[
                ("pk", models.CompositePrimaryKey("account", "slot", blank=True, editable=False,
                                                  primary_key=True, serialize=False)),
                ("account", models.CharField(max_length=200)),
                ("slot", models.PositiveSmallIntegerField(default=0)),
                ("balance_cents", models.BigIntegerField()),
                ("posting_count", models.BigIntegerField()),
                ("last_position", models.BigIntegerField()),
            ],
        ),
        migrations.RunSQL(
            "INSERT INTO ledger_accountbalanceslot (account, slot, balance_cents, posting_count, last_position) "
            "SELECT account, 0, balance_cents, posting_count, last_position FROM ledger_accountbalance",
            "INSERT INTO ledger_accountbalance (account, balance_cents, posting_count, last_position) "
            "SELECT account, SUM(balance_cents), SUM(posting_count), MAX(last_position) "
            "FROM ledger_accountbalanceslot GROUP BY account",
        ),
        migrations.DeleteModel(name="AccountBalance"),
        migrations.CreateModel(
            name="AccountBalance",
            fields=[
                ("account", models.CharField(max_length=200, primary_key=True, serialize=False)),
                ("balance_cents", models.BigIntegerField()),
                ("posting_count", models.BigIntegerField()),
                ("last_position", models.BigIntegerField()),
            ],
            options={"managed": False, "db_table": "ledger_accountbalance"},
        ),
        migrations.RunSQL(VIEW, "DROP VIEW ledger_accountbalance"),
        migrations.RunPython(_postgres_only(ROOM_FOR_UPDATES), _postgres_only(NO_ROOM)),
    ]
