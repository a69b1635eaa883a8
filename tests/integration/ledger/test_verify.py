"""verify_ledger and rebuild_projections: tampering is found and named, replays are equal."""
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from ledger.models import AccountBalance, AccountBalanceSlot
from ledger.projections import differences
from ledger.services import append
from tests.actors import TESTS
from tests.integration.ledger.helpers import cash_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def log():
    append(stream="loan:L1", expected_version=0, events=[cash_event(100), cash_event(200)], acting_user=TESTS)
    append(stream="loan:L2", expected_version=0, events=[cash_event(300, account="loan:L2:principal")],
           acting_user=TESTS)
    append(stream="loan:L1", expected_version=2, events=[cash_event(400)], acting_user=TESTS)


def _as_superuser_without_guard(sql, params=()):
    """What a rogue DBA could do: switch the triggers off and edit history."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(sql, params)
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")
        else:
            from ledger.db_triggers import install_sql, remove_sql

            for statement in remove_sql("sqlite"):
                cursor.execute(statement)
            cursor.execute(sql, params)
            for statement in install_sql("sqlite"):
                cursor.execute(statement)


def test_clean_log_verifies(log, capsys):
    call_command("verify_ledger")
    assert "ledger verified: 4 events on 2 streams, 8 postings" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)  # tampering happens to committed history
@pytest.mark.parametrize(
    "tamper, named",
    [
        ("UPDATE ledger_event SET payload = '{\"amount_cents\": 999}' WHERE position = 2", "event #2 "),
        ("UPDATE ledger_posting SET amount_cents = amount_cents * 2 WHERE event_id = 3", "event #3 "),
        ("DELETE FROM ledger_posting WHERE id = (SELECT MIN(id) FROM ledger_posting WHERE event_id = 4)", "event #4 "),
        ("DELETE FROM ledger_event WHERE position = 2", "event #2"),
        ("UPDATE ledger_event SET version = 5 - version WHERE stream = 'loan:L1' AND version IN (1, 2)", "event #1 "),
    ],
)
def test_tampering_is_detected_and_the_first_bad_event_named(log, tamper, named):
    if "DELETE FROM ledger_event" in tamper:
        _as_superuser_without_guard("DELETE FROM ledger_posting WHERE event_id = 2")
    if "version = 5 - version" in tamper:
        # Swap v1 and v2 through a free number, as a reordering DBA would.
        tamper = "UPDATE ledger_event SET version = 99 WHERE position = 1"
        _as_superuser_without_guard(tamper)
        _as_superuser_without_guard("UPDATE ledger_event SET version = 1 WHERE position = 2")
        tamper = "UPDATE ledger_event SET version = 2 WHERE position = 1"
    _as_superuser_without_guard(tamper)
    with pytest.raises(CommandError, match=f"first: {named}"):
        call_command("verify_ledger", "--skip-projections")


def test_altered_read_model_is_found_and_rebuild_repairs_it(log):
    AccountBalanceSlot.objects.filter(account="loan:L1:principal").update(balance_cents=1)
    with pytest.raises(CommandError, match="projection ledger.account_balances"):
        call_command("verify_ledger")
    call_command("rebuild_projections")
    assert differences() == []
    assert AccountBalance.objects.get(account="loan:L1:principal").balance_cents == -700


def test_replay_reproduces_read_models_exactly(log):
    before = sorted(AccountBalance.objects.values_list("account", "balance_cents", "posting_count", "last_position"))
    call_command("rebuild_projections")
    after = sorted(AccountBalance.objects.values_list("account", "balance_cents", "posting_count", "last_position"))
    assert before == after


def test_verify_leaves_read_models_untouched(log):
    AccountBalanceSlot.objects.filter(account="loan:L1:principal").update(balance_cents=1)
    assert differences()
    assert AccountBalance.objects.get(account="loan:L1:principal").balance_cents == 1
