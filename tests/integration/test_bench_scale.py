"""The benchmark's newer pieces: the COPY limit in the month's own shape, the targets, the PostgreSQL
settings, and the two-shard simulation, each at a small size and with no timed assertion.

The COPY limit must send the rows the run wrote (their payloads, postings an
event) in exactly the counts asked; the targets and the two-worker ratio are
rules over figures; the settings tool must never touch durability and must
apply only what a reload applies; the simulation must import each trust
group's payments into its own database through the real services, with each
shard's ledger verifying alone, and leave no database behind.
"""
import os
from argparse import Namespace
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml
from django.db import connection

from benchmarks import BENCHMARK
from benchmarks.copy_limit import _RowSpec, copy_limit, scratch_schema_exists, written_rows
from benchmarks.pg_settings import DURABILITY, RECOMMENDED, apply, durability_off, in_effect
from benchmarks.portfolio import (
    BenchCalendar, Shape, behaviour, deal_file, payment_file_chunks, tape_chunks,
)
from benchmarks.shards import group_loans, shard_simulation, shard_url, trust_group
from benchmarks.steps import ratios
from benchmarks.targets import assess, process_peaks
from ledger import business_time
from ledger.models import Event, LogPosition, Posting
from servicing.services.boarding import tape_board
from servicing.services.payment_files import payment_file_import
from trusts.services.forming import deal_file_form

ROOT = Path(__file__).resolve().parents[2]
on_postgres = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def _a_month(loans: int = 6) -> int:
    """A small portfolio boarded, pooled and collected through the services; the position before collections."""
    calendar = BenchCalendar.before(business_time.today())
    shape = Shape(loans=loans, trusts=1, holdings=4)
    for raw in tape_chunks(range(loans), calendar, chunk=100):
        tape_board(raw=raw, boarded_on=calendar.boarded_on, acting_user=BENCHMARK)
    deal_file_form(raw=deal_file(shape, 0, calendar), acting_user=BENCHMARK)
    before = LogPosition.objects.get().last_position
    for raw in payment_file_chunks(range(loans), calendar, chunk=100):
        payment_file_import(raw=raw, acting_user=BENCHMARK)
    return before


# --- The COPY limit in the month's shape ------------------------------------------------------------------


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_copy_limit_sends_the_month_s_own_rows_in_the_counts_asked():
    before = _a_month()
    month = Event.objects.filter(position__gt=before)
    sample = written_rows(after_position=before)
    assert sample.events == month.count() > 0
    assert sample.postings == Posting.objects.filter(event__position__gt=before).count()
    assert len(sample.event_rows) == sample.events  # a small month is sampled whole

    # Twice the month: each sampled event in turn under new positions, with its own postings.
    events, postings = 2 * sample.events, 2 * sample.postings
    spec = _RowSpec(events=events, postings=postings, payload_bytes=600, chunk=7, recorded_at=None, sample=sample)
    sent = [row for rows in spec.event_chunks() for row in rows]
    assert [row[0] for row in sent] == list(range(1, events + 1))
    real = {e.position: e for e in month}
    for row, original in zip(sent, sample.event_rows):
        assert row[1:] == original[1:] and real[original[0]].stream == row[1]
    sent_postings = [row for rows in spec.posting_chunks() for row in rows]
    assert len(sent_postings) == postings and [row[0] for row in sent_postings] == list(range(1, postings + 1))
    accounts = set(Posting.objects.filter(event__position__gt=before).values_list("account", flat=True))
    assert {row[2] for row in sent_postings} <= accounts

    result = copy_limit(events=events, postings=postings, sample=sample)
    assert result["events"] == events and result["postings"] == postings
    assert result["postings_per_event"] == pytest.approx(sample.postings / sample.events, abs=1e-3)
    # The payloads copied are the ones written: the same average size.
    assert result["sent_payload_bytes"] == pytest.approx(result["payload_bytes"], abs=0.1)
    assert result["payload_bytes"] > 100
    assert not scratch_schema_exists()


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_sample_spans_the_whole_month_not_its_start():
    before = _a_month()
    sample = written_rows(after_position=before, sample=2)
    positions = [row[0] for row in sample.event_rows]
    last = LogPosition.objects.get().last_position
    assert len(positions) == 2 and positions[0] == before + 1 and positions[1] > before + (last - before) // 2 - 1


# --- The ratios and the targets ---------------------------------------------------------------------------


def _figures(**over) -> dict:
    out = {
        "boarding": {"peak_mb": 90.0}, "collections": {"seconds": 10.0, "loans_per_second": 1000.0, "peak_mb": 200.0},
        "close": {"trusts": 40, "seconds": 6.0, "phases": [
            {"workers": 1, "trusts": 20, "seconds": 4.0, "trusts_per_second": 5.0, "worker_peak_mb": [110.0]},
            {"workers": 2, "trusts": 20, "seconds": 2.0, "trusts_per_second": 10.0, "worker_peak_mb": [120.0, 115.0]},
        ]},
        "copy_limit": {"seconds": 2.0, "peak_mb": 210.0}, "naive": {"scaled_seconds": 300.0, "peak_mb": 205.0},
    }
    out.update(over)
    return out


def test_the_ratios_take_every_trust_s_close_at_the_two_worker_rate():
    out = _figures()
    q = ratios(out, written=1_000)
    assert q["close_seconds"] == pytest.approx(40 / 10.0)
    assert q["collections_and_close_seconds"] == pytest.approx(14.0)
    assert q["to_copy_limit"] == pytest.approx(7.0) and q["naive_over_ours"] == pytest.approx(300 / 14)
    assert q["collections_and_close_as_run_seconds"] == pytest.approx(16.0)
    assert q["two_workers_over_one"] == pytest.approx(2.0)
    assert "2-worker" in q["close_basis"] and "all 40 trusts" in q["close_basis"]


def test_every_target_is_met_missed_or_not_measured():
    out = _figures()
    out["ratios"] = ratios(out, written=1_000)
    verdicts = {v["target"]: v for v in assess(out)}
    assert verdicts["collections + close <= 3 x COPY"]["verdict"] == "missed"
    assert verdicts["naive >= 20 x ours"]["verdict"] == "met"
    assert verdicts["API >= 300 req/s at 10 connections"]["verdict"] == "not measured"
    assert verdicts["peak memory < 1.5 GB, every process"]["verdict"] == "met"

    out["api"] = {"server_peak_mb": 1600.0, "runs": [
        {"connections": 1, "requests_per_second": 100.0, "p99_ms": 10.0},
        {"connections": 10, "requests_per_second": 320.0, "p99_ms": 55.0}]}
    verdicts = {v["target"]: v for v in assess(out)}
    assert verdicts["API >= 300 req/s at 10 connections"]["met"] is True
    assert verdicts["API p99 < 50 ms at 10 connections"]["met"] is False
    memory = verdicts["peak memory < 1.5 GB, every process"]
    assert memory["met"] is False and "api server" in memory["measured"]


def test_peak_memory_covers_every_process():
    out = _figures(api={"server_peak_mb": 150.0, "runs": []},
                   shards={"shards": [{"shard": 1, "peak_mb": 130.0}, {"shard": 2, "peak_mb": 131.0}],
                           "one_database": {"shard": 0, "peak_mb": 140.0}})
    assert process_peaks(out) == {"main": 210.0, "worker 1.1": 110.0, "worker 2.1": 120.0, "worker 2.2": 115.0,
                                  "api server": 150.0, "shard 1": 130.0, "shard 2": 131.0, "shard one": 140.0}


# --- PostgreSQL's settings --------------------------------------------------------------------------------


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_the_settings_in_effect_are_read_for_every_recommended_and_durability_setting():
    with connection.cursor() as cursor:
        settings = in_effect(cursor)
    assert set(settings) == {r.name for r in RECOMMENDED} | set(DURABILITY)
    assert all(s["value"] is not None for s in settings.values())
    assert settings["shared_buffers"]["reloadable"] is False and settings["max_wal_size"]["reloadable"] is True
    assert durability_off(settings) == []  # the suite's own server keeps the ledger durable


class _Recorder:
    """A cursor that answers pg_settings from a table and records every other statement (nothing is altered)."""

    def __init__(self):
        self.statements: list[str] = []
        self.rows = []

    def execute(self, sql, params=None):
        if "FROM pg_settings" in sql:
            contexts = {"shared_buffers": "postmaster", "wal_compression": "superuser", "synchronous_commit": "user"}
            self.rows = [(name, "x", contexts.get(name, "sighup"), "default", False) for name in params[0]]
        else:
            self.statements.append(sql)

    def fetchall(self):
        return self.rows


def test_apply_alters_only_the_reloadable_settings_and_never_durability():
    cursor = _Recorder()
    restart = apply(cursor)
    altered = [s for s in cursor.statements if s.startswith("ALTER SYSTEM")]
    assert {s.split()[3] for s in altered} == {r.name for r in RECOMMENDED} - {"shared_buffers"}
    assert not any(name in s for s in cursor.statements for name in DURABILITY)
    assert cursor.statements[-1] == "SELECT pg_reload_conf()"
    assert len(restart) == 1 and "shared_buffers = '2GB'" in restart[0] and "restart" in restart[0]


def test_docker_compose_runs_postgres_with_the_recommended_settings():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    command = compose["services"]["postgres"]["command"]
    assert command[0] == "postgres"
    flags = dict(item.split("=", 1) for item in command[2::2])
    assert all(flag == "-c" for flag in command[1::2])
    assert flags == {r.name: r.value for r in RECOMMENDED}
    assert not set(flags) & set(DURABILITY)


# --- Two shards -------------------------------------------------------------------------------------------


def test_trust_groups_split_the_trusts_and_their_loans_without_overlap():
    shape = Shape(loans=101, trusts=5, holdings=10)
    groups = [trust_group(shape.trusts, shard) for shard in (1, 2)]
    assert groups == [range(0, 2), range(2, 5)]
    loans = [group_loans(shape, g) for g in groups]
    assert loans[0].start == 0 and loans[0].stop == loans[1].start and loans[1].stop == 101
    with pytest.raises(ValueError):
        trust_group(1, 1)
    assert shard_url("postgres://u@h:5432/mbs_bench_x", 2) == "postgres://u@h:5432/mbs_bench_x_s2"
    assert shard_url("postgres://u@h:5432/mbs_bench_x", 0) == "postgres://u@h:5432/mbs_bench_x_one"
    assert trust_group(shape.trusts, 0) == range(5)


@pytest.mark.postgres_only
def test_two_shards_import_their_trust_groups_into_their_own_databases(tmp_path, monkeypatch):
    import psycopg

    base = urlparse(os.environ["DATABASE_URL"])._replace(path=f"/mbs_bench_test_{os.getpid()}").geturl()
    monkeypatch.setenv("BENCH_SHARD_LOGS", str(tmp_path))
    args = Namespace(database_url=base, broker_url=os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15"),
                     loans=12, trusts=2, holdings=4, file_rows=5, keep_database=False)

    result = shard_simulation(args, one_database={"loans_per_second": 100.0}, verify=True)

    shards = result["shards"]
    assert [s["shard"] for s in shards] == [1, 2] and all(s["verified"] for s in shards)
    assert [s["loans"] for s in shards] == [6, 6] and result["loans"] == 12
    paying = [sum(behaviour(i) != "missed" for i in range(start, start + 6)) for start in (0, 6)]
    assert [s["payments"] for s in shards] == paying
    assert all(s["events"] >= s["payments"] and s["postings"] > s["events"] for s in shards)
    # The same portfolio into one database by one process: the same payments, as many events as both shards.
    one = result["one_database"]
    assert one["shard"] == 0 and one["trusts"] == 2 and one["loans"] == 12 and one["verified"]
    assert one["payments"] == sum(paying) and one["events"] == sum(s["events"] for s in shards)
    assert one["postings"] == sum(s["postings"] for s in shards)
    assert result["two_over_one"] == pytest.approx(result["loans_per_second"] / one["loans_per_second"])
    assert result["main_run_loans_per_second"] == 100.0 and result["cpus"] == os.cpu_count()
    admin = urlparse(base)._replace(path="/postgres").geturl()
    with psycopg.connect(admin) as conn:
        left = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                            [f"mbs_bench_test_{os.getpid()}%"]).fetchall()
    assert left == []
