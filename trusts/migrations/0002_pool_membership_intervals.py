"""Pool membership as non-overlapping date intervals: a loan is in at most one trust on any day.

A loan belongs to a trust from the day after the trust's cut-off (`transferred_on`) through its
removal date (`removed_on`, open-ended while it is still in the pool): the half-open range
(transferred_on, removed_on]. On PostgreSQL an exclusion constraint (btree_gist) refuses two
membership rows of one loan whose ranges overlap, whoever writes them. SQLite has no such
constraint; there the services' checks (forming refuses a cut-off before the loan's last
removal) are the only guard, and this migration does nothing.
"""
from django.db import migrations

CONSTRAINT = "pool_loan_membership_no_overlap"


OVERLAPS = """
    SELECT a.loan_id, ta.code, a.transferred_on, a.removed_on, tb.code, b.transferred_on, b.removed_on
    FROM trusts_poolloan a
    JOIN trusts_poolloan b ON b.loan_id = a.loan_id AND b.id > a.id
         AND daterange(a.transferred_on, a.removed_on, '(]') && daterange(b.transferred_on, b.removed_on, '(]')
    JOIN trusts_trust ta ON ta.id = a.trust_id
    JOIN trusts_trust tb ON tb.id = b.trust_id
    ORDER BY a.loan_id, a.transferred_on
"""


def add_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(OVERLAPS)
        overlaps = cursor.fetchall()
    if overlaps:
        # Books written before the rule: name every overlap rather than fail on the first row.
        listed = "\n".join(
            f"  loan {loan}: trust {a} ({a_in}, {a_out or 'open'}] and trust {b} ({b_in}, {b_out or 'open'}]"
            for loan, a, a_in, a_out, b, b_in, b_out in overlaps)
        raise RuntimeError(f"{len(overlaps)} pool membership(s) overlap another of the same loan; one borrower "
                           f"payment would belong to two trusts. Resolve them before migrating:\n{listed}")
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    schema_editor.execute(
        f"ALTER TABLE trusts_poolloan ADD CONSTRAINT {CONSTRAINT} EXCLUDE USING gist "
        "(loan_id WITH =, daterange(transferred_on, removed_on, '(]') WITH &&)"
    )


def drop_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # The extension stays: other objects may have come to depend on it.
    schema_editor.execute(f"ALTER TABLE trusts_poolloan DROP CONSTRAINT IF EXISTS {CONSTRAINT}")


class Migration(migrations.Migration):

    dependencies = [
        ("trusts", "0001_trusts_pools_register"),
    ]

    operations = [
        migrations.RunPython(add_constraint, drop_constraint, elidable=False),
    ]
