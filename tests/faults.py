"""Fault injection for the tests that kill or pause a real process mid-job: a hook on ledger.hooks' named points.

The application only names its points (`ledger.hooks.reached("close:appended")`)
and installs nothing. A test that wants a worker or a command to die or stop at
one starts it through this module, which installs the fault hook in that process
and then runs the program as Python would:

    python -m tests.faults -m celery -A config worker ...
    python -m tests.faults manage.py import_payments FILE
    python -m tests.faults -c "<code>" ARG ...

(`launcher(...)` builds that command line.) What the hook does is told by
environment variables, read here, in the test code, when the process starts:

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
import runpy
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ledger import hooks

KILL_VARIABLE = "MBS_FAULT_KILL_AT"
PAUSE_VARIABLE = "MBS_FAULT_PAUSE_AT"
PAUSE_DIRECTORY_VARIABLE = "MBS_FAULT_PAUSE_DIR"
PAUSE_SECONDS_VARIABLE = "MBS_FAULT_PAUSE_SECONDS"
SEED_VARIABLE = "MBS_FAULT_SEED"
LOG_VARIABLE = "MBS_FAULT_LOG"
VARIABLE_PREFIX = "MBS_FAULT"


@dataclass
class FaultPlan:
    """Where this process kills or pauses itself; called by ledger.hooks at every point it reaches."""

    kill_at: str = ""  # "point[@probability],..."; "*" is every point
    pause_at: frozenset[str] = frozenset()
    pause_directory: Path = Path(".")
    pause_seconds: float = 120.0
    log: Path | None = None
    chance: random.Random = field(default_factory=random.Random)
    paused: set[str] = field(default_factory=set)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> FaultPlan:
        seed = environ.get(SEED_VARIABLE)
        return cls(kill_at=environ.get(KILL_VARIABLE, ""),
                   pause_at=frozenset(p for p in environ.get(PAUSE_VARIABLE, "").split(",") if p),
                   pause_directory=Path(environ.get(PAUSE_DIRECTORY_VARIABLE) or "."),
                   pause_seconds=float(environ.get(PAUSE_SECONDS_VARIABLE, "120")),
                   log=Path(environ[LOG_VARIABLE]) if environ.get(LOG_VARIABLE) else None,
                   # fault-injection dice in tests, not a secret  # nosec B311
                   chance=random.Random(int(seed) if seed else None))

    @property
    def active(self) -> bool:
        return bool(self.kill_at or self.pause_at)

    def __call__(self, point: str) -> None:
        if self.kills_at(point):
            self._log(point, "kill")
            os.kill(os.getpid(), signal.SIGKILL)
        if point in self.pause_at and point not in self.paused:
            self.paused.add(point)  # once per process: a retry in the same process runs through
            self._log(point, "pause")
            self._pause(point)

    def kills_at(self, point: str) -> bool:
        """Whether this process dies at `point` now (a point with a probability rolls the seeded dice)."""
        for item in self.kill_at.split(","):
            name, _, probability = item.strip().partition("@")
            if name in (point, "*") and (not probability or self.chance.random() < float(probability)):
                return True
        return False

    def _pause(self, point: str) -> None:
        marker = self.pause_directory / point.replace(":", "_")
        marker.with_suffix(".reached").write_text(str(os.getpid()))
        deadline = time.monotonic() + self.pause_seconds
        while not marker.with_suffix(".go").exists() and time.monotonic() < deadline:
            time.sleep(0.05)

    def _log(self, point: str, what: str) -> None:
        if self.log is None:
            return
        with open(self.log, "a", encoding="utf-8") as out:
            out.write(f"{what} {point} {os.getpid()}\n")
            out.flush()
            os.fsync(out.fileno())


def install_from_environment(environ: Mapping[str, str] = os.environ) -> FaultPlan | None:
    """Install the plan the environment describes in this process; None (and nothing installed) if none."""
    plan = FaultPlan.from_environment(environ)
    if not plan.active:
        return None
    hooks.install(plan)
    return plan


def launcher(*program: str) -> list[str]:
    """The command line running `program` (Python's own arguments: "-m module ...", "script.py ...",
    "-c code ...") with the fault hook the environment describes installed first."""
    return [sys.executable, "-m", "tests.faults", *program]


def without_faults(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment less any fault variable (a test's own, or one left over from the caller)."""
    return {k: v for k, v in environ.items() if not k.startswith(VARIABLE_PREFIX)}


def run(argv: Sequence[str]) -> None:
    """Install the faults, then run `argv` as `python argv...` would, in this process."""
    install_from_environment()
    if not argv:
        raise SystemExit("usage: python -m tests.faults (-m module | -c code | script.py) [arguments...]")
    first, rest = argv[0], list(argv[1:])
    if first == "-m":
        sys.argv = [rest[0], *rest[1:]]
        runpy.run_module(rest[0], run_name="__main__", alter_sys=True)
    elif first == "-c":
        sys.argv = ["-c", *rest[1:]]
        exec(compile(rest[0], "<string>", "exec"), {"__name__": "__main__"})  # the test's own code  # nosec B102
    else:
        sys.argv = [first, *rest]
        runpy.run_path(first, run_name="__main__")


if __name__ == "__main__":
    run(sys.argv[1:])
