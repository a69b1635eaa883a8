"""A PostgreSQL cluster and a Redis of the test's own, on free ports, that a test may restart at will.

The shared services on 5432 and 6379 serve everyone else's tests and are never
touched. `private_services` (session-scoped) runs `initdb` as the postgres
user in a temporary directory (trust authentication, fsync off: speed, not
durability, is what a test cluster needs; a restart still loses every
uncommitted transaction, which is the point), starts it on 127.0.0.1:<free
port>, and starts `redis-server` without persistence on another free port.
Everything is stopped and the directories removed at the end of the session.
Skipped, saying why, only when the binaries are not installed.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

POSTGRES_BIN = Path(os.environ.get("MBS_POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))
REDIS_SERVER = shutil.which("redis-server")
OWNER = "postgres"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_owner(*command: str, **kwargs) -> subprocess.CompletedProcess:
    # initdb and postgres refuse to run as root; the cluster belongs to the postgres user.
    prefix = ["runuser", "-u", OWNER, "--"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, *command], check=True, capture_output=True, text=True, timeout=120, **kwargs)


def _wait_for_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


@dataclass
class PrivateServices:
    root: Path
    pg_port: int = field(default_factory=free_port)
    redis_port: int = field(default_factory=free_port)
    redis: subprocess.Popen | None = None
    restarts: dict = field(default_factory=lambda: {"postgres": 0, "redis": 0})

    @property
    def data(self) -> Path:
        return self.root / "pgdata"

    def database_url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.pg_port}/{name}"

    def redis_url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/{db}"

    # --- PostgreSQL ---------------------------------------------------------------------------------

    def init_postgres(self) -> None:
        _as_owner(str(POSTGRES_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
                  "--no-sync", "-E", "UTF8")
        self.start_postgres()

    def _pg_ctl(self, *args: str) -> None:
        _as_owner(str(POSTGRES_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "postgres.log"),
                  "-w", "-t", "60", *args)

    def start_postgres(self) -> None:
        options = (f"-p {self.pg_port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50")
        self._pg_ctl("-o", options, "start")
        _wait_for_port(self.pg_port)

    def restart_postgres(self, mode: str = "fast") -> None:
        """Stop the cluster (fast: sessions terminated; immediate: a crash, recovered at start) and start it."""
        self._pg_ctl("-m", mode, "restart")
        _wait_for_port(self.pg_port)
        self.restarts["postgres"] += 1

    def stop_postgres(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._pg_ctl("-m", "immediate", "stop")

    def sql(self, statement: str, database: str = "postgres") -> list[tuple]:
        import psycopg

        with psycopg.connect(self.database_url(database), autocommit=True, connect_timeout=10) as conn:
            cursor = conn.execute(statement)
            return cursor.fetchall() if cursor.description else []

    def create_database(self, name: str, template: str | None = None) -> str:
        self.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.sql(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return self.database_url(name)

    # --- Redis --------------------------------------------------------------------------------------

    def start_redis(self) -> None:
        self.redis = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--dir", str(self.root)],
            stdout=open(self.root / "redis.log", "ab"), stderr=subprocess.STDOUT)
        _wait_for_port(self.redis_port)

    def restart_redis(self) -> None:
        """Kill Redis (without persistence, every queued and unacknowledged message goes with it) and start it."""
        self.stop_redis()
        self.start_redis()
        self.restarts["redis"] += 1

    def stop_redis(self) -> None:
        if self.redis and self.redis.poll() is None:
            self.redis.kill()
            self.redis.wait(timeout=30)

    def redis_client(self, db: int = 0):
        import redis

        return redis.Redis(host="127.0.0.1", port=self.redis_port, db=db, socket_timeout=10)

    def stop(self) -> None:
        try:
            self.stop_redis()
        finally:
            try:
                self.stop_postgres()
            finally:
                shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def private_services():
    """A private PostgreSQL 15 and Redis, started for the session and removed after it."""
    missing = [str(p) for p in (POSTGRES_BIN / "initdb", POSTGRES_BIN / "pg_ctl") if not p.exists()]
    if not REDIS_SERVER:
        missing.append("redis-server")
    if missing:
        pytest.skip(f"the restart tests need their own PostgreSQL and Redis; not installed: {', '.join(missing)}")
    root = Path(tempfile.mkdtemp(prefix="mbs-private-"))
    os.chmod(root, 0o755)
    if os.geteuid() == 0:
        shutil.chown(root, OWNER, OWNER)
    services = PrivateServices(root)
    try:
        services.init_postgres()
        services.start_redis()
        yield services
    finally:
        services.stop()
