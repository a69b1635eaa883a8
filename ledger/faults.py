"""Fault injection for the tests that kill a worker mid-job: off unless an environment variable names a point.

`checkpoint("close:appended")` does nothing in normal running. A test that
starts a worker process with MBS_FAULT_KILL_AT=close:appended makes that
worker SIGKILL itself at that point, as an out-of-memory kill or a pulled
plug would: no exception handler, no rollback code, no goodbye.
"""
import os
import signal

ENVIRONMENT_VARIABLE = "MBS_FAULT_KILL_AT"


def checkpoint(name: str) -> None:
    if os.environ.get(ENVIRONMENT_VARIABLE) == name:
        os.kill(os.getpid(), signal.SIGKILL)
