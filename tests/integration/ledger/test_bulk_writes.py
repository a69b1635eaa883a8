"""The set-based writes (ledger.bulk) write what the ORM would, on PostgreSQL and on SQLite.

On PostgreSQL the rows travel as one JSON parameter (`rows_source`) and key
look-ups as one (`among`): text with quotes and non-ASCII letters, NULLs,
large whole numbers and the order of an upsert's rows must all come through.
"""
import pytest

from ledger.bulk import among, update_rows, upsert_sums
from ledger.models import AccountBalance, Stream

pytestmark = pytest.mark.django_db

NAMES = ["loan:L1", "loan:L'2", 'loan:"L3"', "loan:Lé4", "loan:L\\5"]


def test_update_rows_writes_each_instance_back():
    Stream.objects.bulk_create([Stream(name=name, version=1, head_hash="0" * 64) for name in NAMES])
    streams = list(Stream.objects.filter(name__in=among(NAMES)).order_by("name"))
    assert [s.name for s in streams] == sorted(NAMES)
    for i, stream in enumerate(streams):
        stream.version = 2_000_000_000 + i
        stream.head_hash = f"{i:064x}"
    update_rows(Stream, streams, ["version", "head_hash"])
    assert sorted(Stream.objects.values_list("name", "version", "head_hash")) == sorted(
        (s.name, s.version, s.head_hash) for s in streams)


def test_among_finds_only_the_keys_given():
    Stream.objects.bulk_create([Stream(name=name, version=1, head_hash="0" * 64) for name in NAMES])
    assert set(Stream.objects.filter(name__in=among(NAMES[:2] + ["loan:nobody"])).values_list("name", flat=True)) \
        == set(NAMES[:2])
    assert not Stream.objects.filter(name__in=among([])).exists()


def test_upsert_sums_adds_onto_what_is_stored_and_inserts_the_rest():
    rows = [(name, 0, 10 ** 15 + i, 1, i) for i, name in enumerate(sorted(NAMES))]
    upsert_sums("ledger_accountbalanceslot", ("account", "slot"), ("balance_cents", "posting_count"), rows,
                replace=("last_position",), key_types=("varchar", "smallint"))
    upsert_sums("ledger_accountbalanceslot", ("account", "slot"), ("balance_cents", "posting_count"), rows[:2],
                replace=("last_position",), key_types=("varchar", "smallint"))
    stored = dict((a, (b, c, p)) for a, b, c, p in AccountBalance.objects.values_list(
        "account", "balance_cents", "posting_count", "last_position"))
    for i, (name, _, cents, _, _) in enumerate(rows):
        again = i < 2
        assert stored[name] == (cents * (2 if again else 1), 2 if again else 1, i)


def test_upsert_sums_replaces_text_and_null_free_values():
    upsert_sums("ledger_stream", "name", (), [("loan:L9", 3, "a" * 64)], replace=("version", "head_hash"),
                replace_types=("integer", "varchar"))
    upsert_sums("ledger_stream", "name", (), [("loan:L9", 4, "b" * 64)], replace=("version", "head_hash"),
                replace_types=("integer", "varchar"))
    assert list(Stream.objects.filter(name="loan:L9").values_list("version", "head_hash")) == [(4, "b" * 64)]
