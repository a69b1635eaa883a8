"""Real Celery workers for the redelivery and reconciler tests: `celery worker` processes on the test database.

A worker is started as its own process, as in production, with a short
visibility timeout (looked at every second), so a message it took and never
acknowledged (it was killed) is handed out again by the Redis transport; `idle()` waits until the
broker holds neither a waiting nor an unacknowledged message, so a test
counts the business effects only once every delivery has run.
"""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

from config.celery import app
from tests.faults import KILL_VARIABLE, launcher, without_faults

ROOT = Path(__file__).resolve().parents[2]
VISIBILITY_TIMEOUT = 5  # seconds before the transport hands out again a message taken and never acknowledged
QUEUE = "celery"
# How often a worker looks for messages unacknowledged longer than the visibility timeout; by
# default kombu looks when a worker starts and then every 100 s, too seldom for a test to wait.
FAST_RESTORE = {"visibility_timeout": VISIBILITY_TIMEOUT, "unacked_restore_interval": 1,
                "unacked_restore_throttle": 1}
# The project's own app and worker (as `celery -A config worker`), looking every second.
_WORKER_MAIN = f"""
import sys
from config.celery import app
app.conf.broker_transport_options = {{**app.conf.broker_transport_options, **{FAST_RESTORE!r}}}
app.worker_main(sys.argv[1:])
"""


def worker(*, kill_at: str | None = None, name: str = "w") -> subprocess.Popen:
    """A `celery -A config worker` process on the test database; SIGKILLs itself at `kill_at` if given."""
    db = connection.settings_dict
    env = {**without_faults(os.environ),
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
           "CELERY_BROKER_URL": settings.CELERY_BROKER_URL, "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT)}
    if kill_at:
        env[KILL_VARIABLE] = kill_at
    # Through the fault launcher (tests/faults.py), which installs the kill in the worker before it starts.
    return subprocess.Popen(
        [*launcher("-c", _WORKER_MAIN), "worker", "--pool=solo", "--concurrency=1",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-Q", QUEUE, "--loglevel=WARNING",
         "-n", f"{name}-{os.getpid()}-{time.monotonic_ns()}@%h"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def broker_counts() -> tuple[int, int]:
    """(messages waiting in the queue, messages delivered and not yet acknowledged)."""
    with app.connection_for_write() as conn:
        client = conn.default_channel.client
        return client.llen(QUEUE), client.zcard("unacked_index")


def idle(timeout: float = 150, settle: float = 1.0) -> None:
    """Wait until every message sent has been run and acknowledged (twice in a row, `settle` apart)."""
    deadline = time.monotonic() + timeout
    quiet = 0
    while time.monotonic() < deadline:
        quiet = quiet + 1 if broker_counts() == (0, 0) else 0
        if quiet >= 2:
            return
        time.sleep(settle)
    raise AssertionError(f"the workers did not finish: (waiting, unacknowledged) = {broker_counts()}")


def wait_for(condition, timeout: float = 120, what: str = "the worker") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def stop(*processes: subprocess.Popen, idle_now: bool = False) -> None:
    """Stop the workers: a warm shutdown (the message in hand finished and acknowledged), or at once when idle."""
    for process in processes:
        if process.poll() is None:
            process.kill() if idle_now else process.terminate()
    for process in processes:
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


def drop_leftover_messages() -> None:
    """Empty this test's broker database of messages, so none lands in a later test's database."""
    with app.connection_for_write() as conn:
        conn.default_channel.client.delete("unacked", "unacked_index", "unacked_mutex")
    app.control.purge()
