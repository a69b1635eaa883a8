"""Real Celery workers for the benchmark's close: started, watched for memory, stopped.

Each worker is its own `celery worker --pool=solo` process (one task at a
time, the task runs in that process), so its peak memory is the process's
own high-water mark, read from /proc before it is stopped.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def peak_memory_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM), in MB; 0 when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@contextmanager
def celery_workers(count: int, *, env: dict[str, str], log_dir: Path):
    """Start `count` worker processes on the broker and database in `env`; yields their Popen objects."""
    processes = []
    try:
        for number in range(count):
            log = open(log_dir / f"worker-{count}-{number}.log", "w")
            processes.append(subprocess.Popen(  # this Python's celery from a fixed argument list, no shell # nosec B603
                [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--concurrency=1",
                 "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"bench{number}@%h",
                 "--loglevel=WARNING"],
                cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
            ))
        yield processes
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        for process in processes:
            try:
                process.wait(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
