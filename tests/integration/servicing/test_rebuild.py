"""Every servicing table is a fold of the log: emptied, reference rows included, a rebuild brings back the same
rows, from events of the current schema and from events recorded in the version 1 shapes (with `position_after`
snapshots) the services wrote before events were typed."""
import importlib
from datetime import date
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection

import ledger.services
from ledger.business_time import business_day
from ledger.events import VERSION_KEY
from ledger.models import Event
from ledger.projections import differences
from ledger.domain.records import NewEvent, StreamAppend
from ledger.verification import verify
from servicing.events import LoanFact, PaymentPosted, PaymentReturned, loan_fact
from servicing.models import Borrower, CollectionLine, EscrowItem, Loan, LoanPosition, Property
from servicing.services.payments import payment_post
from servicing.services.default import foreclosure_start, loan_liquidate
from servicing.services.delinquency import loans_age
from servicing.services.escrow import escrow_analysis_run, escrow_disburse_due, escrow_item_add
from servicing.services.loan_events import folded, position_after
from servicing.services.payoff import payoff_quote_get
from tests.actors import TESTS, payment_return
from tests.integration.servicing.tapes import board, seed_rows

pytestmark = pytest.mark.django_db
# Children before parents: the order a database would empty them in.
TABLES = (CollectionLine, LoanPosition, EscrowItem, Loan, Borrower, Property)
INSTALLMENT = 84_955  # 599.55 P&I + 250.00 escrow


@pytest.fixture(autouse=True)
def _after_the_book():
    with business_day(date(2027, 6, 30)):
        yield


def servicing_tables() -> dict[str, list[tuple]]:
    """Every row of every servicing table, every column, keys included."""
    return {model._meta.label: sorted(model.objects.values_list(*[f.attname for f in model._meta.concrete_fields]),
                                      key=repr)
            for model in TABLES}


def book() -> None:
    """A year of servicing on five loans: payments, a return, a payoff, escrow, aging and a liquidation."""
    board(*seed_rows(5))
    for loan in ("L001", "L002"):
        escrow_item_add(loan_number=loan, kind="property_tax", payee="Springfield County", annual_amount_cents=240_000,
                        due_dates=["2026-03-01", "2026-09-01"], added_on=date(2026, 1, 20), acting_user=TESTS)
    for month in (2, 3, 4):
        for loan in ("L001", "L002", "L003"):
            payment_post(loan_number=loan, amount_cents=INSTALLMENT, received_on=date(2026, month, 1),
                         reference=f"{loan}-{month}", acting_user=TESTS)
    payment_post(loan_number="L005", amount_cents=INSTALLMENT + 10_000, received_on=date(2026, 2, 3),
                 reference="L005-2", acting_user=TESTS)
    payment_return(loan_number="L002", reference="L002-4", returned_on=date(2026, 4, 6), reason="NSF",
                   fee_cents=2_500)
    escrow_disburse_due(as_of=date(2026, 3, 1), acting_user=TESTS)
    quote = payoff_quote_get(loan_number="L003", as_of=date(2026, 4, 20))
    payment_post(loan_number="L003", amount_cents=quote.total_cents + 1_234, received_on=date(2026, 4, 20),
                 reference="L003-payoff", acting_user=TESTS)
    escrow_analysis_run(loan_number="L001", computation_year_start=date(2026, 5, 1), analyzed_on=date(2026, 4, 15), acting_user=TESTS)
    loans_age(as_of=date(2026, 6, 5), acting_user=TESTS)
    foreclosure_start(loan_number="L004", started_on=date(2026, 6, 5), acting_user=TESTS)
    loan_liquidate(loan_number="L004", liquidated_on=date(2026, 8, 1), gross_proceeds_cents=7_000_000,
                   costs_cents=400_000, acting_user=TESTS)


def empty_every_servicing_table() -> None:
    with connection.cursor() as cursor:
        for model in TABLES:
            cursor.execute(f"DELETE FROM {model._meta.db_table}")  # noqa: S608 (our own table names)
    assert all(not model.objects.exists() for model in TABLES)


def rebuilt_equal_from_nothing(*, every_table: bool = True) -> None:
    stored = servicing_tables()
    assert not every_table or all(stored[m._meta.label] for m in TABLES), "the book should fill every table"
    empty_every_servicing_table()
    call_command("rebuild_projections", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert servicing_tables() == stored
    assert differences() == []
    report = verify()
    assert report.ok, report.problems


def test_every_servicing_table_is_rebuilt_from_the_log_alone():
    book()
    types = set(Event.objects.values_list("event_type", flat=True))
    assert {"LoanBoarded", "EscrowItemAdded", "PaymentPosted", "PaymentReturned", "LoanPaidOff", "BorrowerRefundPaid",
            "EscrowDisbursed", "EscrowAnalyzed", "DelinquencyChanged", "LateChargeAssessed", "ForeclosureStarted",
            "LoanLiquidated"} <= types
    # New events record decisions, never a snapshot of the position.
    assert not Event.objects.filter(payload__has_key="position_after").exists()
    assert Borrower.objects.get(loans__loan_number="L001").id == Event.objects.get(
        stream="loan:L001", event_type="LoanBoarded").position
    rebuilt_equal_from_nothing()


def _as_v1(stream: str, event: NewEvent, position: LoanPosition) -> tuple[NewEvent, LoanPosition]:
    """The event as the services wrote it before version 2: its snapshots instead of its decision."""
    if event.event_type == "LoanBoarded":
        return event, position
    fact = loan_fact(event)
    after = folded(position, fact)
    payload = dict(event.payload)
    payload.pop(VERSION_KEY)
    if isinstance(fact, PaymentPosted):
        payload["application"] = {k: v for k, v in payload["application"].items()
                                  if k not in ("next_due_date_before", "next_due_date_after")}
    if isinstance(fact, PaymentReturned):
        del payload["reversal"]
    if isinstance(fact, (PaymentPosted, PaymentReturned)) or event.event_type == "LoanPaidOff":
        payload["position_before"] = position_after(position)
    payload["position_after"] = position_after(after)
    return NewEvent(event.event_type, payload, event.effective_date, event.postings, event.idempotency_key), after


@pytest.fixture
def v1_services(monkeypatch):
    """The services, writing every loan event in its version 1 shape (append goes through append_batch)."""
    real = ledger.services.append_batch

    def append_batch(*, appends, acting_user=None, under_lock=None):
        rewritten = []
        for a in appends:
            position = LoanPosition.objects.filter(loan_id=a.stream.split(":", 1)[1]).first()
            events = []
            for event in a.events:
                if a.stream.startswith("loan:") and position is not None:
                    event, position = _as_v1(a.stream, event, position)
                events.append(event)
            rewritten.append(StreamAppend(a.stream, a.expected_version, tuple(events)))
        return real(appends=rewritten, acting_user=acting_user, under_lock=under_lock)

    monkeypatch.setattr(ledger.services, "append_batch", append_batch)


def test_a_log_recorded_in_version_1_shapes_replays_verifies_and_rebuilds(v1_services):
    book()
    stored_v1 = Event.objects.exclude(event_type="LoanBoarded").filter(stream__startswith="loan:")
    assert stored_v1.exists() and not stored_v1.filter(payload__has_key=VERSION_KEY).exists()
    assert stored_v1.filter(payload__has_key="position_after").count() == stored_v1.count()
    returned = Event.objects.get(event_type="PaymentReturned")
    assert isinstance(loan_fact(returned), LoanFact) and loan_fact(returned).reversal is None
    rebuilt_equal_from_nothing()


def test_a_version_1_payment_is_returned_by_a_version_2_return(v1_services, monkeypatch):
    board(*seed_rows(1))
    payment_post(loan_number="L001", amount_cents=INSTALLMENT, received_on=date(2026, 2, 1), reference="OLD-1", acting_user=TESTS)
    before = LoanPosition.objects.get(loan_id="L001")
    monkeypatch.undo()  # from here on, today's services
    payment_post(loan_number="L001", amount_cents=INSTALLMENT, received_on=date(2026, 3, 1), reference="NEW-1", acting_user=TESTS)
    payment_return(loan_number="L001", reference="NEW-1", returned_on=date(2026, 3, 4), reason="NSF", fee_cents=0)
    after = LoanPosition.objects.get(loan_id="L001")
    assert (after.principal_balance_cents, after.next_due_date, after.escrow_balance_cents) == (
        before.principal_balance_cents, before.next_due_date, before.escrow_balance_cents)
    payment_return(loan_number="L001", reference="OLD-1", returned_on=date(2026, 3, 5), reason="NSF", fee_cents=0)
    restored = LoanPosition.objects.get(loan_id="L001")
    assert restored.principal_balance_cents == 10_000_000 and restored.next_due_date == date(2026, 2, 1)
    assert restored.last_payment_date is None
    rebuilt_equal_from_nothing(every_table=False)


def test_rows_numbered_by_the_database_before_they_were_projections_take_the_logs_ids_once():
    """Migration 0004: a database whose borrower, property and escrow-item rows got the sequences' ids."""
    migration = importlib.import_module("servicing.migrations.0004_reference_rows_from_the_log")
    book()
    before = servicing_tables()
    with connection.cursor() as cursor:  # as the sequences had numbered them: other ids than the log's positions
        cursor.execute("UPDATE servicing_loan SET borrower_id = borrower_id + 100000, property_id = property_id + 100000")
        for table in ("servicing_borrower", "servicing_property", "servicing_escrowitem"):
            cursor.execute(f"UPDATE {table} SET id = id + 100000")  # noqa: S608 (fixed table names)
    assert differences()  # a replay would give other ids than these
    migration.rows_from_the_log(apps, SimpleNamespace(connection=connection))
    assert servicing_tables() == before and differences() == []
