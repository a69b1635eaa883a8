"""An index of the returned payments on the log, for the close: what `ledger.event_type`'s index did, narrowed.

Ledger migration 0007 dropped the index on every event's type (each event
written paid for it). The one query that needs to find events by type alone
is the close's `remittance.selectors.period_facts._returns_in_window`: every
PaymentReturned in a window of dates and positions, once per trust closed.
Without an index that is a scan of the window's events (a month of the whole
book's payments) per trust. This partial index holds only the returned
payments, so every other event written skips it (its condition is false),
and the close reads the few returns by position. Same SQL on PostgreSQL and
SQLite. It is remittance's, beside the query it serves; the ledger does not
know the servicing event types.
"""
from django.db import migrations

CREATE = ("CREATE INDEX IF NOT EXISTS ledger_event_payment_returned ON ledger_event (position) "
          "WHERE event_type = 'PaymentReturned'")
DROP = "DROP INDEX IF EXISTS ledger_event_payment_returned"


class Migration(migrations.Migration):
    dependencies = [("remittance", "0004_reconciler_schedule"), ("ledger", "0008_account_balance_slots")]
    operations = [migrations.RunSQL(CREATE, DROP)]
