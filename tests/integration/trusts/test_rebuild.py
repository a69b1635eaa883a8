"""Every trusts table is a fold of the log: emptied, reference rows included, a replay gives every row back.

Two trusts are formed (their holders registered with them), a holder is
linked to a login, holdings are transferred, a pool loan is removed and a
period is closed (so rows outside trusts point at the trust and its class).
Every trusts table is snapshotted with its ids, emptied and rebuilt from the
log alone; the rows, ids included, come back equal, and the rows that point
at them still do.
"""
from datetime import date

import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection, transaction

from ledger.events import decode
from ledger.models import Event
from ledger.projections import differences, rebuild, registry
from remittance.models import ClassPeriod, Distribution, TrustPeriod
from tests.integration.remittance.months import close, pay_everyone
from tests.integration.trusts.deals import TRUST, form, seed_deal, transfer
from trusts.events import HolderRegistered, TrustFormed
from trusts.models import Holder, HoldingMovement, PoolLoan, SecurityClass, Trust
from trusts.projections import CLASS_ID_BASE
from trusts.services.holders import holder_details_change
from trusts.services.pool import pool_loan_remove
from tests.actors import TESTS

pytestmark = pytest.mark.django_db(transaction=True)
TABLES = (Trust, SecurityClass, Holder, PoolLoan, HoldingMovement)
TRUSTS_PROJECTIONS = ("trusts.reference", "trusts.pool", "trusts.register")
SECOND = "ABC-2026-2"


# Nothing points at a pool or register line, so their ids are a replay's own (the projections' unstable field).
OWN_IDS = (PoolLoan, HoldingMovement)


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every trusts table, every column: the ids of trusts, classes and holders included."""
    return {model._meta.label: sorted((tuple(row) for row in model.objects.values_list(
        *[f.attname for f in model._meta.concrete_fields if not (model in OWN_IDS and f.primary_key)])), key=repr)
        for model in TABLES}


@pytest.fixture
def book(loans):
    form(seed_deal(first_payment_date="2026-03-25"))
    form(seed_deal(code=SECOND, first_payment_date="2026-03-25", name="ABC Mortgage Trust 2026-2", loans=["L011", "L012"],
                   holders=[{"code": "INV-02", "name": "Investor 2", "class": "A", "face": "100000.00"},
                            {"code": "INV-11", "name": "Investor 11", "class": "A", "face": "100000.00"}],
                   classes=[{"name": "A", "face": "200000.00", "coupon": "net-wac", "principal": "pro-rata",
                             "denomination": "1000.00"}]))
    alice = User.objects.create_user("alice")
    holder_details_change(code="INV-01", name="First Investor LLC", contact="ops@first.example", user=alice, acting_user=TESTS)
    holder_details_change(code="INV-03", name="Investor 3", contact="", user=User.objects.create_user("carol"), acting_user=TESTS)
    holder_details_change(code="INV-03", name="Investor 3", contact="three@example.com", user=None, acting_user=TESTS)
    transfer()
    transfer(from_holder="INV-02", to_holder="INV-11", face_cents=2_000_000, settlement_date=date(2026, 2, 3))
    pool_loan_remove(trust_code=TRUST, loan_number="L001", removed_on=date(2026, 2, 15), kind="repurchase",
                     reason="breach of representations", acting_user=TESTS)
    pay_everyone("2026-02", loans=[f"L{i:03d}" for i in range(2, 11)])
    close("2026-02")
    return alice


def test_the_ids_are_taken_from_the_log(book):
    for event in Event.objects.filter(event_type=TrustFormed.event_type):
        trust = Trust.objects.get(code=decode(event).code)
        assert trust.pk == event.position
        assert sorted(trust.classes.values_list("pk", flat=True)) == [
            event.position * CLASS_ID_BASE + n for n in range(1, trust.classes.count() + 1)]
    for event in Event.objects.filter(event_type=HolderRegistered.event_type):
        assert Holder.objects.get(code=decode(event).code).pk == event.position


def test_emptied_trusts_tables_are_rebuilt_equal_from_the_log(book):
    before = snapshot()
    assert all(before.values()) and Holder.objects.get(code="INV-01").user == book
    pointing = (list(TrustPeriod.objects.values_list("pk", "trust_id")),
                list(ClassPeriod.objects.values_list("pk", "security_class_id")),
                sorted(Distribution.objects.values_list("pk", "holder_id", "security_class_id")))
    chosen = [registry.get(name) for name in TRUSTS_PROJECTIONS]
    with transaction.atomic():
        for projection in reversed(chosen):
            projection.clear()
        assert not any(model.objects.exists() for model in TABLES)  # the reference rows too
        rebuild(chosen)
    # Committed: the deferred foreign keys of the periods and payments found their trust and classes again.
    assert snapshot() == before
    assert Holder.objects.get(code="INV-01").user == book and Holder.objects.get(code="INV-03").user is None
    assert (list(TrustPeriod.objects.values_list("pk", "trust_id")),
            list(ClassPeriod.objects.values_list("pk", "security_class_id")),
            sorted(Distribution.objects.values_list("pk", "holder_id", "security_class_id"))) == pointing
    connection.check_constraints()


def test_the_whole_rebuild_command_reproduces_them_too(book):
    before = snapshot()
    call_command("rebuild_projections", verbosity=0)
    assert snapshot() == before
    assert differences() == []


def test_a_renamed_login_stays_linked_through_a_rebuild(book):
    book.username = "alice.smith"
    book.save()
    call_command("rebuild_projections", "--projection", "trusts.reference", verbosity=0)
    assert Holder.objects.get(code="INV-01").user == book


def test_rows_numbered_before_their_events_drove_them_take_the_logs_ids_once(book):
    """A database whose rows got the sequence's ids (before the rows were projections): migration 0003."""
    migration = importlib.import_module("trusts.migrations.0003_reference_ids_from_the_log")
    before = snapshot()
    pointing = sorted(TrustPeriod.objects.values_list("trust_id", flat=True))
    sequence = {label: {pk: n for n, pk in enumerate(sorted(model.objects.values_list("pk", flat=True)), start=1)}
                for label, model in (("trusts.Trust", Trust), ("trusts.SecurityClass", SecurityClass),
                                     ("trusts.Holder", Holder))}
    with transaction.atomic():
        migration.renumber(apps, sequence)  # as the database's sequences had numbered them
    assert sorted(Trust.objects.values_list("pk", flat=True)) == [1, 2]
    assert differences()  # a replay would give other ids than these
    with transaction.atomic():
        migration.reference_ids_from_the_log(apps, None)
    assert snapshot() == before and differences() == []
    assert sorted(TrustPeriod.objects.values_list("trust_id", flat=True)) == pointing
    connection.check_constraints()
