"""Nothing recorded can be changed or removed: not by SQL, the ORM or the admin."""
import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import ProtectedError

from ledger.models import Event, ImmutableRecordError, Posting
from ledger.services import append
from tests.actors import TESTS
from tests.integration.ledger.helpers import cash_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def recorded():
    append(stream="loan:L1", expected_version=0, events=[cash_event(10_000)], acting_user=TESTS)
    return Event.objects.get(), list(Posting.objects.all())


def _refused(statement):
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic():
            statement()


@pytest.mark.parametrize("table", ["ledger_event", "ledger_posting"])
@pytest.mark.parametrize("verb", ["UPDATE {t} SET effective_date = '2000-01-01'", "DELETE FROM {t}"])
def test_raw_sql_update_and_delete_are_rejected(recorded, table, verb):
    def run():
        with connection.cursor() as cursor:
            cursor.execute(verb.format(t=table))

    _refused(run)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("table", ["ledger_event", "ledger_posting"])
def test_truncate_is_rejected(recorded, table):
    # Committed rows: PostgreSQL refuses TRUNCATE of a table with pending
    # deferred trigger events anyway, which would hide the trigger under test.
    def run():
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {table} CASCADE")

    _refused(run)


def test_orm_update_bulk_update_and_delete_are_rejected(recorded):
    event, postings = recorded
    _refused(lambda: Posting.objects.update(amount_cents=1))
    _refused(lambda: Event.objects.update(payload={"forged": True}))
    for posting in postings:
        posting.amount_cents = 7
    _refused(lambda: Posting.objects.bulk_update(postings, ["amount_cents"]))
    _refused(lambda: Posting.objects.all().delete())
    with pytest.raises((DatabaseError, ProtectedError)):
        with transaction.atomic():
            Event.objects.all().delete()
    assert sorted(Posting.objects.values_list("amount_cents", flat=True)) == [-10_000, 10_000]
    assert Event.objects.get().payload == {"amount_cents": 10_000}


def test_model_save_and_delete_refuse_before_reaching_the_database(recorded):
    event, postings = recorded
    event.payload = {"forged": True}
    with pytest.raises(ImmutableRecordError):
        event.save()
    with pytest.raises(ImmutableRecordError):
        postings[0].delete()


@pytest.mark.postgres_only
def test_unbalanced_postings_cannot_be_committed_even_by_raw_sql(recorded):
    """The deferred constraint trigger: no code path can commit an unbalanced event."""
    event, _ = recorded
    with pytest.raises(DatabaseError, match="sum to 5 cents"):
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO ledger_posting (event_id, account, amount_cents, effective_date) "
                    "VALUES (%s, 'thief:pocket', 5, %s)", [event.position, event.effective_date]
                )
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert Posting.objects.count() == 2
