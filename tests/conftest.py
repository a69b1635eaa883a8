"""Test-wide set-up: the real services, and flushing append-only tables.

The suite runs against the PostgreSQL and Redis given by DATABASE_URL and
CELERY_BROKER_URL (make test sets them) and stops at once, saying so, when
they cannot be reached. Tests that need PostgreSQL's behaviour are marked
`postgres_only` and skipped on SQLite.
"""
import os
import socket
from urllib.parse import urlparse

import pytest
from django.db import connection
from django.db.backends.base.operations import BaseDatabaseOperations

from ledger.db_triggers import install_sql, remove_sql
from tests.figures import FIGURES, summary_lines


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=3):
            return True
    except OSError:
        return False


def pytest_sessionstart(session):
    database_url = os.environ.get("DATABASE_URL", "")
    if database_url.startswith("postgres") and not _reachable(database_url, 5432):
        pytest.exit(f"PostgreSQL is not reachable at {database_url}: start it (see README, 'Tests')", returncode=3)
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if broker.startswith("redis") and not _reachable(broker, 6379):
        pytest.exit(f"Redis is not reachable at {broker}: start it (see README, 'Tests')", returncode=3)


def pytest_collection_modifyitems(config, items):
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def figures():
    """Where a reliability test records its figures (trials, cases, outcomes) for the summary."""
    return FIGURES


def pytest_terminal_summary(terminalreporter):
    lines = summary_lines()
    if lines:
        terminalreporter.section("reliability figures")
        for line in lines:
            terminalreporter.write_line(line)


_original_flush = BaseDatabaseOperations.execute_sql_flush


def _flush_past_the_guard(self, sql_list):
    """Let the test runner empty the append-only tables between transactional tests.

    On PostgreSQL a superuser session may skip ordinary triggers with
    session_replication_role; on SQLite the triggers are dropped and put back.
    Production code has neither door: the runtime role is no superuser.
    """
    vendor = self.connection.vendor
    with self.connection.cursor() as cursor:
        if vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        else:
            for sql in remove_sql(vendor):
                cursor.execute(sql)
    try:
        _original_flush(self, sql_list)
    finally:
        with self.connection.cursor() as cursor:
            if vendor == "postgresql":
                cursor.execute("SET session_replication_role = DEFAULT")
            else:
                for sql in install_sql(vendor):
                    cursor.execute(sql)
            cursor.execute("INSERT INTO ledger_logposition (id, last_position) VALUES (1, 0) ON CONFLICT (id) DO NOTHING")


BaseDatabaseOperations.execute_sql_flush = _flush_past_the_guard


@pytest.fixture(autouse=True)
def _investor_answers_not_kept(settings):
    """The API's answer cache (api.read_cache) is off unless a test turns it on.

    A test runs in a transaction that is rolled back, never committed, so the
    generation a close gives investors' answers (after its commit) never
    changes: a test that reads, closes and reads again would be answered
    from before the close. tests/api/test_read_cache.py turns it on, and runs
    the commit's callbacks itself.
    """
    settings.API_READ_CACHE = False
