"""Fault injection for the tests that kill or pause a process mid-job: off unless an environment variable asks.

`checkpoint("close:appended")` does nothing in normal running (one lookup of
the environment). A test starts a worker or a command with:

- MBS_FAULT_KILL_AT=close:appended — SIGKILL itself at that point, as an
  out-of-memory kill or a pulled plug would: no exception handler, no
  rollback code, no goodbye. Several points may be given, comma-separated;
  a point may carry a probability ("import:chunk@0.5"), and "*" stands for
  every point ("*@0.3": each point reached kills with probability 0.3).
  MBS_FAULT_SEED seeds that chance, so a failing trial can be replayed.
- MBS_FAULT_PAUSE_AT=import:chunk with MBS_FAULT_PAUSE_DIR=<dir> — at that
  point, the first time it is reached, write <dir>/<point>.reached and wait
  (at most MBS_FAULT_PAUSE_SECONDS, default 120) until <dir>/<point>.go
  exists: the test restarts PostgreSQL or Redis in that window, exactly.
- MBS_FAULT_LOG=<file> — each kill or pause appends its point's name there
  first, so the test can count where its processes died.
"""
from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

ENVIRONMENT_VARIABLE = "MBS_FAULT_KILL_AT"
PAUSE_VARIABLE = "MBS_FAULT_PAUSE_AT"
PAUSE_DIRECTORY_VARIABLE = "MBS_FAULT_PAUSE_DIR"
SEED_VARIABLE = "MBS_FAULT_SEED"
LOG_VARIABLE = "MBS_FAULT_LOG"

_chance: random.Random | None = None
_paused: set[str] = set()


def checkpoint(name: str) -> None:
    """A point where a test may kill or pause this process; nothing at all unless asked."""
    environ = os.environ
    if ENVIRONMENT_VARIABLE in environ and _kill_here(name, environ[ENVIRONMENT_VARIABLE]):
        _log(name, "kill")
        os.kill(os.getpid(), signal.SIGKILL)
    if PAUSE_VARIABLE in environ and name in environ[PAUSE_VARIABLE].split(",") and name not in _paused:
        _paused.add(name)  # once per process: a retry in the same process runs through
        _log(name, "pause")
        _pause(name)


def _kill_here(name: str, plan: str) -> bool:
    for item in plan.split(","):
        point, _, probability = item.strip().partition("@")
        if point in (name, "*") and (not probability or _roll() < float(probability)):
            return True
    return False


def _roll() -> float:
    global _chance
    if _chance is None:
        seed = os.environ.get(SEED_VARIABLE)
        _chance = random.Random(int(seed) if seed else None)  # fault-injection dice in tests, not a secret # nosec B311
    return _chance.random()


def _pause(name: str) -> None:
    directory = Path(os.environ.get(PAUSE_DIRECTORY_VARIABLE) or ".")
    file_name = name.replace(":", "_")
    (directory / f"{file_name}.reached").write_text(str(os.getpid()))
    deadline = time.monotonic() + float(os.environ.get("MBS_FAULT_PAUSE_SECONDS", "120"))
    while not (directory / f"{file_name}.go").exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def _log(name: str, what: str) -> None:
    path = os.environ.get(LOG_VARIABLE)
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(f"{what} {name} {os.getpid()}\n")
            out.flush()
            os.fsync(out.fileno())
