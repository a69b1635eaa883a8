"""A real Celery worker SIGKILLed at random points of the month-end close, and a payment import killed mid-file.

Each close trial seeds the trust with February paid, starts a real
`celery -A config worker` through the fault launcher (tests/faults.py),
told (MBS_FAULT_KILL_AT) to SIGKILL itself at the one named point
(ledger.hooks) chosen by a seeded random generator, sends the month-end, and
waits for the kill. Then a clean worker is started with a short visibility
timeout: the Redis transport hands the dead worker's unacknowledged message
to it, as it would in production an hour later. After that every holder
must have been paid exactly once, the right amount, the period closed once,
and verify() clean. The seed is printed; MBS_FAULT_SEED=<seed> replays a run.
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app
from ledger.models import Event
from remittance.models import PeriodResult, TrustPeriod
from remittance.tasks import month_end_close_task
from tests.faults import KILL_VARIABLE, LOG_VARIABLE, SEED_VARIABLE, launcher, without_faults
from tests.figures import FIGURES
from tests.integration.servicing.tapes import board, seed_rows
from tests.reliability.scenario import AS_OF, PERIOD, facts, file_references, paid_exactly_once_problems, \
    payment_file_text, seed
from tests.reliability.workers import drop_leftover_messages, stop
from tests.soak import trials

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.postgres_only, pytest.mark.soak, pytest.mark.django_db(transaction=True)]

# Where a month-end worker can die: the fan-out enqueued, the close begun, appended, committed (not acked).
CLOSE_KILL_POINTS = ("month-end:enqueued", "close:started", "close:appended", "close:committed")
_INSIDE_THE_CLOSE = ("close:started", "close:appended")
IMPORT_KILL_POINTS = ("import:appended", "import:chunk")
SEED = int(os.environ.get(SEED_VARIABLE) or random.SystemRandom().randrange(1_000_000))
CLOSE_TRIALS = trials(2, 8)
IMPORT_TRIALS = trials(1, 3)
TALLY = {"close": Counter(), "close_ok": 0, "close_seconds": [], "import": Counter(), "import_ok": 0}


def _kill_point(trial: int) -> str:
    """The point trial `trial` dies at: every point once per round, in a seeded random order."""
    round_, place = divmod(trial, len(CLOSE_KILL_POINTS))
    order = list(CLOSE_KILL_POINTS)
    random.Random(SEED * 1000 + round_).shuffle(order)
    return order[place]


@pytest.fixture(scope="module", autouse=True)
def report_figures():
    print(f"\nworker kill trials: seed {SEED} (replay with {SEED_VARIABLE}={SEED})")
    yield
    if TALLY["close"]:
        seconds = TALLY["close_seconds"]
        FIGURES.record("worker SIGKILL during close", trials=sum(TALLY["close"].values()), seed=SEED,
                       kill_points=dict(sorted(TALLY["close"].items())), paid_exactly_once=TALLY["close_ok"],
                       recovery_seconds_max=round(max(seconds), 1),
                       recovery_seconds_mean=round(sum(seconds) / len(seconds), 1))
    if TALLY["import"]:
        FIGURES.record("payment import SIGKILLed between chunks", trials=sum(TALLY["import"].values()),
                       kill_points=dict(TALLY["import"]), posted_exactly_once=TALLY["import_ok"])


@pytest.mark.parametrize("trial", range(CLOSE_TRIALS))
def test_a_worker_killed_anywhere_in_the_month_end_leaves_every_holder_paid_once(trial, tmp_path):
    point = _kill_point(trial)
    print(f"trial {trial}: kill at {point}")
    _seed_february()
    doomed = _worker(tmp_path, {KILL_VARIABLE: point})
    try:
        month_end_close_task.delay(PERIOD, AS_OF)
        assert doomed.wait(timeout=180) == -signal.SIGKILL, f"the worker did not die at {point}"
        assert (tmp_path / "faults.log").read_text().split()[:2] == ["kill", point]
        killed_at = time.monotonic()
        # The dead worker's message comes back to a clean worker once the visibility timeout passed.
        clean = _worker(tmp_path, {"CELERY_VISIBILITY_TIMEOUT": "2"})
        try:
            _wait_until_idle()
        finally:
            stop(clean)
    finally:
        stop(doomed)
        drop_leftover_messages()
    TALLY["close"][point] += 1
    TALLY["close_seconds"].append(time.monotonic() - killed_at)
    problems = paid_exactly_once_problems(facts())
    assert not problems, f"seed {SEED} trial {trial} killed at {point}: {problems}"
    # A kill inside the close left it CLOSING: the redelivered message started it a second time.
    assert TrustPeriod.objects.get(period=PERIOD).attempts == (2 if point in _INSIDE_THE_CLOSE else 1)
    TALLY["close_ok"] += 1


@pytest.mark.parametrize("trial", range(IMPORT_TRIALS))
def test_an_import_killed_between_chunks_posts_nothing_and_its_rerun_posts_each_payment_once(trial, tmp_path):
    board(*seed_rows(12))
    text = payment_file_text(payments_per_loan=2 + trial % 3)  # each repeat of a loan is a new chunk
    path = tmp_path / "payments.csv"
    path.write_text(text)
    # Killed while working the file out (nothing written yet), or with every event appended and not committed.
    point = IMPORT_KILL_POINTS[trial % len(IMPORT_KILL_POINTS)]
    killed = _manage(["import_payments", str(path)], {KILL_VARIABLE: point, **_log(tmp_path)})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert not Event.objects.filter(event_type="PaymentPosted").exists(), "a killed import left payments behind"
    done = _manage(["import_payments", str(path)], {})  # operations run the same file again
    assert done.returncode == 0, done.stderr
    assert f"posted {len(file_references(text))} payment(s) (0 payoff(s)); 0 already posted" in done.stdout
    found = facts(text)
    assert found["payments_posted"] == len(file_references(text))
    assert not found["file_references_missing"] and not found["payments_not_in_file"]
    assert found["verify_ok"], found["verify_problems"]
    TALLY["import"][point] += 1
    TALLY["import_ok"] += 1


def _seed_february():
    from tests.integration.remittance.months import pay_everyone

    seed()
    pay_everyone(PERIOD)


def _environment(extra: dict) -> dict:
    db = connection.settings_dict
    return {**without_faults(os.environ),
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL, **extra}


def _log(directory: Path) -> dict:
    return {LOG_VARIABLE: str(directory / "faults.log")}


def _worker(directory: Path, extra: dict) -> subprocess.Popen:
    """A real `celery worker` process on the test database and the test broker, faults installed as `extra` says."""
    return subprocess.Popen(
        [*launcher("-m", "celery"), "-A", "config", "worker", "--pool=solo", "--concurrency=1",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-Q", "celery", "--loglevel=WARNING"],
        cwd=ROOT, env=_environment({**_log(directory), **extra}),
        stdout=subprocess.DEVNULL, stderr=open(directory / "worker.log", "ab"))


def _manage(args: list[str], extra: dict) -> subprocess.CompletedProcess:
    return subprocess.run([*launcher("manage.py"), *args], cwd=ROOT, env=_environment(extra),
                          capture_output=True, text=True, timeout=180)


def _broker_counts() -> tuple[int, int]:
    with app.connection_for_write() as conn:
        client = conn.default_channel.client
        return client.llen("celery"), client.hlen("unacked")


def _wait_until_idle(timeout: float = 150) -> None:
    """Until the close is recorded and the broker holds nothing queued or unacknowledged, twice in a row."""
    deadline, quiet = time.monotonic() + timeout, 0
    while time.monotonic() < deadline:
        done = PeriodResult.objects.filter(period=PERIOD).exists()
        quiet = quiet + 1 if done and _broker_counts() == (0, 0) else 0
        if quiet >= 3:
            return
        time.sleep(0.5)
    raise AssertionError(f"seed {SEED}: the close did not complete after the kill (queued, unacked: "
                         f"{_broker_counts()}, closed: {PeriodResult.objects.filter(period=PERIOD).exists()})")


