"""Borrower, Property, Loan and EscrowItem become read models of the log: written again from it, keys included.

Until now boarding wrote the borrower and property rows with database-assigned ids; the projection
that writes them now gives each the log position of its loan's LoanBoarded event (and an escrow
item that of its EscrowItemAdded), so that a rebuild reproduces them exactly. This migration does
once what `rebuild_projections` does: it empties the four tables and writes them from those events,
reading the version 1 payloads (the only ones recorded before it), with the historical models and
no code of the app, so it keeps working whatever the app becomes.

Rows of other apps point at Loan without a database constraint (trusts.PoolLoan, LoanPosition,
CollectionLine): they keep pointing at the same loan numbers.
"""
from datetime import date
from decimal import Decimal

from django.db import migrations


def rows_from_the_log(apps, schema_editor):
    Event = apps.get_model("ledger", "Event")
    Borrower = apps.get_model("servicing", "Borrower")
    Property = apps.get_model("servicing", "Property")
    Loan = apps.get_model("servicing", "Loan")
    EscrowItem = apps.get_model("servicing", "EscrowItem")
    with schema_editor.connection.cursor() as cursor:
        # Raw deletes, children first: no ORM cascade to collect over rows of other apps.
        for table in ("servicing_escrowitem", "servicing_loan", "servicing_borrower", "servicing_property"):
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608 (fixed table names)
    boarded = Event.objects.filter(event_type="LoanBoarded", stream__startswith="loan:").order_by("position")
    chunk = []
    for event in boarded.iterator(chunk_size=2000):
        chunk.append(event)
        if len(chunk) == 2000:
            _board(chunk, Borrower, Property, Loan)
            chunk = []
    _board(chunk, Borrower, Property, Loan)
    items = Event.objects.filter(event_type="EscrowItemAdded", stream__startswith="loan:").order_by("position")
    EscrowItem.objects.bulk_create([
        EscrowItem(id=e.position, loan_id=e.stream.split(":", 1)[1], kind=e.payload["kind"], payee=e.payload["payee"],
                   annual_amount_cents=e.payload["annual_amount_cents"], due_dates=list(e.payload["due_dates"]))
        for e in items
    ], batch_size=2000)


def _board(events, Borrower, Property, Loan):
    if not events:
        return
    Borrower.objects.bulk_create([Borrower(id=e.position, name=e.payload["borrower_name"]) for e in events])
    Property.objects.bulk_create([
        Property(id=e.position, address=e.payload["property_address"], property_type=e.payload["property_type"],
                 value_cents=e.payload["property_value_cents"]) for e in events])
    Loan.objects.bulk_create([
        Loan(loan_number=p["loan_number"], borrower_id=e.position, property_id=e.position,
             original_balance_cents=p["original_balance_cents"], boarded_balance_cents=p["current_balance_cents"],
             note_rate=Decimal(p["note_rate"]), term_months=p["term_months"],
             first_payment_date=date.fromisoformat(p["first_payment_date"]),
             servicing_fee_rate=Decimal(p["servicing_fee_rate"]), payment_pi_cents=p["payment_pi_cents"],
             autopay=p["autopay"], boarded_on=e.effective_date)
        for e, p in ((e, e.payload) for e in events)])


class Migration(migrations.Migration):

    dependencies = [
        ("servicing", "0003_collection_lines"),
        ("ledger", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(rows_from_the_log, migrations.RunPython.noop),
    ]
