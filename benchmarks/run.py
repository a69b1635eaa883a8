"""`make bench`: a synthetic portfolio boarded, collected, closed and read, measured side by side.

    python -m benchmarks.run [--loans N] [--trusts T] [--holdings H] [--database-url URL] ...

On a database of its own (dropped and created anew, never the test or demo
one) it runs, through the same services and tasks operations staff use:

1. boarding N loans from loan tapes, and forming T trusts from deal files;
2. posting one month of collections from payment files (on time, partial,
   curtailment, payoff, missed);
3. the month-end close of every trust through real Celery workers on Redis:
   half the trusts with one worker, the other half with two;
4. in the same run, the limit (PostgreSQL COPY of as many event and posting
   rows into plain tables) and the naive way (one trust's month done through
   the same public services one call per payment and per holder, scaled to N);
5. the investor API under load (wrk on loopback) at 1, 10 and 50 connections;
6. two shards: the portfolio's two trust groups on two databases, each
   imported by its own process at once, against step 2 (benchmarks.shards).

It prints each step's throughput, the ratios to the COPY limit and to the
naive way, each process's peak memory, every target met or missed
(benchmarks.targets) and the PostgreSQL settings in effect
(benchmarks.pg_settings), and writes them as JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import secrets
import sys
import time
from datetime import date
from pathlib import Path
from urllib.parse import urlparse

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/mbs_bench"
DEFAULT_BROKER = "redis://127.0.0.1:6379/11"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loans", type=int, default=20_000)
    parser.add_argument("--trusts", type=int, default=40)
    parser.add_argument("--holdings", type=int, default=2_000)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    parser.add_argument("--broker-url", default=DEFAULT_BROKER)
    parser.add_argument("--file-rows", type=int, default=50_000, help="rows per loan tape and payment file")
    parser.add_argument("--api-seconds", type=int, default=10, help="seconds of load per connection count")
    parser.add_argument("--api-tokens", type=int, default=500, help="investors the load rotates over")
    parser.add_argument("--skip-api", action="store_true")
    parser.add_argument("--skip-shards", action="store_true",
                        help="skip the two-shard simulation (benchmarks/shards.py): it boards the portfolio again")
    parser.add_argument("--keep-database", action="store_true", help="leave the bench database for a look")
    parser.add_argument("--tune-postgres", action="store_true",
                        help="first ALTER SYSTEM the reloadable recommended settings (benchmarks/pg_settings.py; "
                             "superuser; the server's, not only the bench database's)")
    parser.add_argument("--out", default="bench-results.json")
    return parser.parse_args(argv)


def recreate_database(url: str) -> None:
    """Drop and create the bench database (refusing the names the tests and the demo use)."""
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if not name.startswith("mbs_bench"):
        raise SystemExit(f"refusing to drop {name!r}: the benchmark's database name must start with mbs_bench")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def tune_postgres(url: str) -> None:
    """The opt-in: the recommended reloadable settings applied server-wide (shared_buffers needs a restart)."""
    import psycopg

    from benchmarks.pg_settings import apply

    with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cursor:
        for line in apply(cursor):
            print(f"--tune-postgres: needs a restart, not applied: {line}")


def postgres_settings() -> dict[str, dict]:
    """The settings that bear on the figures, as in effect for this run (the report prints them)."""
    from django.db import connection

    from benchmarks.pg_settings import in_effect

    with connection.cursor() as cursor:
        return in_effect(cursor)


def drop_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    with psycopg.connect(parsed._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.path.lstrip("/")}" WITH (FORCE)')


def setup_django(args) -> None:
    os.environ["DATABASE_URL"] = args.database_url
    os.environ["CELERY_BROKER_URL"] = args.broker_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # Production mode: no query log, no debug toolbar of any kind; a throwaway key for this run only.
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(64))
    import django

    django.setup()


def self_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Timer:
    """Wall time of a block, with the main process's peak memory when it ended."""

    def __enter__(self):
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.started
        self.peak_mb = self_peak_mb()


def log_rows() -> tuple[int, int]:
    """Events and postings in the log (from the position counter and the postings' serial)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT last_position FROM ledger_logposition WHERE id = 1")
        events = cursor.fetchone()[0]
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM ledger_posting")
        postings = cursor.fetchone()[0]
    return events, postings


def main(argv=None) -> int:
    args = parse_args(argv)
    recreate_database(args.database_url)
    if args.tune_postgres:
        tune_postgres(args.database_url)
    setup_django(args)
    from benchmarks import steps

    results = {"date": date.today().isoformat(), "machine": machine(), "shape": {
        "loans": args.loans, "trusts": args.trusts, "holdings": args.holdings}, "command": command(args),
        "postgres_settings": postgres_settings()}
    try:
        results.update(steps.run_all(args))
    finally:
        if not args.keep_database:
            from django.db import connections

            connections.close_all()
            drop_database(args.database_url)
    Path(args.out).write_text(json.dumps(results, indent=2))
    from benchmarks.report import print_report

    print_report(results)
    print(f"\nfigures written to {args.out}")
    return 0


def machine() -> str:
    cores = os.cpu_count()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{platform.machine()}, {cores} cores, {memory:.0f} GiB, {platform.python_implementation()} " \
           f"{platform.python_version()}, PostgreSQL {postgres_version()}"


def postgres_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0].split()[0]


def command(args) -> str:
    extra = " ".join(flag for flag, on in (("--tune-postgres", args.tune_postgres), ("--skip-api", args.skip_api))
                     if on)
    return (f"make bench BENCH_LOANS={args.loans} BENCH_TRUSTS={args.trusts} BENCH_HOLDINGS={args.holdings}"
            + (f' BENCH_ARGS="{extra}"' if extra else ""))


if __name__ == "__main__":
    sys.exit(main())
