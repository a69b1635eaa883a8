"""Account balances in slots: a hot account spread over several rows, read as one sum.

The balances move to `ledger_accountbalanceslot` (key: account, slot); every
row already stored becomes slot 0 of its account. `ledger_accountbalance`
becomes a view summing each account's slots, so every reader, the ORM's
`AccountBalance` and raw SQL alike, still sees one row per account. Why: see
`AccountBalanceSlot` in ledger/models.py.

The view's SQL is the same on PostgreSQL and SQLite. On PostgreSQL a filter
on the account (equality, IN, a prefix) is pushed through the GROUP BY to the
slot table's key. A runtime role (ledger/db_roles.py) may write the new table
once `grant_runtime_role` has run again after this migration.
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
    ]
