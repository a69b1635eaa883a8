"""PostgreSQL and Redis restarted in the middle of a payment file import and of a month-end close.

The shared services are never touched: these tests run the application, as
subprocesses (`manage.py import_payments`, a real `celery worker`), against a
private PostgreSQL and Redis (tests/reliability/private_services.py) and
restart those. The process is started through the fault launcher
(tests/faults.py), which pauses it at a named point of ledger.hooks
(MBS_FAULT_PAUSE_AT) so the restart lands exactly there: between two chunks
of the import (a chunk appended, the file not committed), or inside the close
(begun; every event appended but not committed; committed but its message not
yet acknowledged). Then the job is run again the way operations would (the
import rerun with the same file; the close's message redelivered or retried)
and the ledger is read: every payment posted exactly once, nothing half
written, every holder paid once the right amount, verify() clean.
"""
from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from celery import Celery
from kombu import Connection

from tests.faults import LOG_VARIABLE, PAUSE_DIRECTORY_VARIABLE, PAUSE_VARIABLE, launcher, without_faults
from tests.figures import FIGURES
from tests.reliability.private_services import private_services  # noqa: F401  (the fixture)
from tests.reliability.scenario import AS_OF, PERIOD, TRUST, file_references, paid_exactly_once_problems, payment_file_text
from tests.reliability.workers import stop
from tests.soak import trials

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.postgres_only, pytest.mark.soak]

TRIALS = trials(1, 3)
CLOSE_POINTS = ("close:appended", "close:started", "close:committed")
POSTGRES_MODES = ("fast", "immediate")
TALLY: dict[str, Counter] = defaultdict(Counter)
_BROKER_DBS = itertools.count()


@pytest.fixture(scope="module", autouse=True)
def report_figures():
    yield
    for what, counts in sorted(TALLY.items()):
        FIGURES.record(what, **dict(sorted(counts.items())))


@pytest.fixture(scope="module")
def seeded(private_services):  # noqa: F811
    """A database migrated and seeded once (the trust formed, nothing paid), cloned for every trial."""
    url = private_services.create_database("mbs_seeded")
    env = _environment(private_services, url, 0)
    _run(["manage.py", "migrate", "--no-input", "-v", "0"], env)
    _run(["-m", "tests.reliability.scenario", "seed"], env)
    return "mbs_seeded"


@pytest.fixture(scope="module")
def february_paid(private_services, seeded, tmp_path_factory):  # noqa: F811
    """The seeded database with one payment from each of L001-L010 in February, cloned for the close trials."""
    url = private_services.create_database("mbs_february", template=seeded)
    path = tmp_path_factory.mktemp("february") / "february.csv"
    path.write_text(payment_file_text(payments_per_loan=1))
    _run(["manage.py", "import_payments", str(path)], _environment(private_services, url, 0))
    return "mbs_february"


@pytest.mark.parametrize("trial", range(TRIALS))
@pytest.mark.parametrize("service", ["postgres", "redis"])
def test_a_restart_in_the_middle_of_a_payment_import(service, trial, private_services, seeded, tmp_path):  # noqa: F811
    services = private_services
    mode = POSTGRES_MODES[trial % 2]
    env = _trial_environment(services, seeded, f"import_{service}_{trial}", trial, tmp_path)
    text = payment_file_text(payments_per_loan=3)  # three chunks: a loan's second payment starts a new one
    path = tmp_path / "payments.csv"
    path.write_text(text)
    importing = _start(["manage.py", "import_payments", str(path)], {**env, PAUSE_VARIABLE: "import:appended"},
                       tmp_path / "import.log")
    _restart_when_paused(services, service, mode, importing, tmp_path / "import_appended")
    first = importing.wait(timeout=180)
    posted_first = _payments_posted(services, env)
    if service == "postgres":
        # The import's connection died with its transaction: it fails, and leaves nothing behind.
        assert first != 0, "the import went on after PostgreSQL restarted under it"
        assert posted_first == 0, f"{posted_first} payments of a failed import were left behind"
    else:
        assert first == 0, (tmp_path / "import.log").read_text()  # an import does not need the broker
    # Operations run the same file again: it posts what is missing and nothing twice (by bank reference).
    rerun = _run(["manage.py", "import_payments", str(path)], env).stdout
    rows = len(file_references(text))
    assert f"posted {rows - posted_first} payment(s) (0 payoff(s)); {posted_first} already posted" in rerun, rerun
    found = _facts(env, path)
    assert found["payments_posted"] == rows, found
    assert not found["file_references_missing"] and not found["payments_not_in_file"], found
    assert not found["references_posted_twice"] and found["verify_ok"], found
    counts = TALLY[f"{service} restarted during a payment import"]
    counts["trials"] += 1
    counts[f"first_run_{'failed_nothing_posted' if first else 'completed'}"] += 1
    counts["posted_exactly_once"] += 1
    if service == "postgres":
        counts[f"mode_{mode}"] += 1


@pytest.mark.parametrize("trial", range(TRIALS))
@pytest.mark.parametrize("service", ["postgres", "redis"])
def test_a_restart_in_the_middle_of_a_close(service, trial, private_services, february_paid, tmp_path):  # noqa: F811
    services = private_services
    point = CLOSE_POINTS[(trial + (service == "redis")) % len(CLOSE_POINTS)]
    mode = POSTGRES_MODES[trial % 2]
    env = _trial_environment(services, february_paid, f"close_{service}_{trial}", trial, tmp_path)
    worker = _start(_WORKER, {**env, PAUSE_VARIABLE: point, "CELERY_VISIBILITY_TIMEOUT": "5"}, tmp_path / "worker.log")
    started = time.monotonic()
    try:
        _enqueue_close(env)
        _restart_when_paused(services, service, mode, worker, tmp_path / point.replace(":", "_"))
        _wait_until_closed(services, env, worker, tmp_path)
        if service == "redis":
            # The worker found the new Redis: a duplicate close sent now is consumed, and pays nothing.
            _enqueue_close(env)
            _wait_until_closed(services, env, worker, tmp_path)
    finally:
        stop(worker)
    problems = paid_exactly_once_problems(_facts(env))
    assert not problems, f"{service} restarted at {point}: {problems}"
    counts = TALLY[f"{service} restarted during a close"]
    counts["trials"] += 1
    counts[f"at_{point}"] += 1
    counts["paid_exactly_once"] += 1
    counts["task_retries"] += (tmp_path / "worker.log").read_text().count(" retry: Retry in")
    counts["seconds_max"] = max(counts["seconds_max"], round(time.monotonic() - started))


_WORKER = ["-m", "celery", "-A", "config", "worker", "--pool=solo", "--concurrency=1", "--without-gossip",
           "--without-mingle", "--without-heartbeat", "-Q", "celery", "--loglevel=INFO"]


def _environment(services, database_url: str, redis_db: int) -> dict:
    return {**without_faults(os.environ), "DJANGO_SETTINGS_MODULE": "config.settings", "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": services.redis_url(redis_db), "CACHE_URL": services.redis_url(15)}


def _trial_environment(services, template: str, name: str, trial: int, directory: Path) -> dict:
    """A fresh clone of the seeded database and a broker database of the trial's own."""
    url = services.create_database(name, template=template)
    redis_db = 1 + next(_BROKER_DBS) % 14
    services.redis_client(redis_db).flushdb()  # the private Redis only: what an earlier trial left queued
    return {**_environment(services, url, redis_db), "BROKER_DB": str(redis_db),
            PAUSE_DIRECTORY_VARIABLE: str(directory), LOG_VARIABLE: str(directory / "faults.log")}


def _run(args: list[str], env: dict, timeout: float = 300) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done


def _start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    """`python args...` in the background, through the fault launcher: it pauses where `env` says."""
    return subprocess.Popen(launcher(*args), cwd=ROOT, env=env, stdout=open(log, "ab"),
                            stderr=subprocess.STDOUT)


def _payments_posted(services, env: dict) -> int:
    database = env["DATABASE_URL"].rsplit("/", 1)[1]
    return services.sql("SELECT count(*) FROM ledger_event WHERE event_type = 'PaymentPosted'", database)[0][0]


def _enqueue_close(env: dict) -> None:
    """Send the February close to the private broker, by name, as the month-end's fan-out does."""
    url = env["CELERY_BROKER_URL"]
    # Celery lets this process's CELERY_BROKER_URL (the shared Redis) override broker=: name the connection.
    sender = Celery("month-end", broker=url, backend=url, set_as_current=False)
    with Connection(url) as connection:
        sender.send_task("remittance.close_period", args=[TRUST, PERIOD, AS_OF], connection=connection,
                         ignore_result=True)
    sender.close()


def _facts(env: dict, path: Path | None = None) -> dict:
    done = _run(["-m", "tests.reliability.scenario", "facts", *([str(path)] if path else [])], env)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _restart_when_paused(services, service: str, mode: str, process: subprocess.Popen, marker: Path) -> None:
    """Wait until `process` pauses at its point, restart `service` under it, and let it go on."""
    deadline = time.monotonic() + 180
    while not marker.with_suffix(".reached").exists():
        assert process.poll() is None, f"the process ended (rc {process.returncode}) before its point"
        assert time.monotonic() < deadline, "the process never reached its point"
        time.sleep(0.1)
    if service == "postgres":
        services.restart_postgres(mode)
    else:
        services.restart_redis()
    marker.with_suffix(".go").touch()


def _wait_until_closed(services, env: dict, worker: subprocess.Popen, directory: Path, timeout: float = 120) -> None:
    """Until the close is recorded and the broker holds nothing queued or unacknowledged, three times running."""
    client = services.redis_client(int(env["BROKER_DB"]))
    deadline, quiet = time.monotonic() + timeout, 0
    while time.monotonic() < deadline:
        assert worker.poll() is None, (directory / "worker.log").read_text()[-3000:]
        closed = _closed(services, env)
        quiet = quiet + 1 if closed and client.llen("celery") == 0 and client.hlen("unacked") == 0 else 0
        if quiet >= 3:
            return
        time.sleep(0.5)
    raise AssertionError(f"the close never completed; worker log:\n{(directory / 'worker.log').read_text()[-3000:]}")


def _closed(services, env: dict) -> bool:
    database = env["DATABASE_URL"].rsplit("/", 1)[1]
    try:
        return bool(services.sql(f"SELECT 1 FROM remittance_periodresult WHERE period = '{PERIOD}'", database))
    except Exception:  # the cluster is still starting up
        return False

