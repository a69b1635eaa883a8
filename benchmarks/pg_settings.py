"""PostgreSQL's settings for a month's bulk writes: the values we recommend, the ones in effect, an opt-in.

    python -m benchmarks.pg_settings --database-url URL            # what is in effect, against what we recommend
    python -m benchmarks.pg_settings --database-url URL --apply    # ALTER SYSTEM + pg_reload_conf (superuser)
    python -m benchmarks.pg_settings --database-url URL --reset    # ALTER SYSTEM RESET: back to the files' values

`make bench` reports the settings in effect with its figures (a figure means
little without them) and applies the recommended ones only when asked
(`--tune-postgres`, or `make pg-tune`): the server may be shared, and its
settings are its owner's. Only the reloadable settings are applied;
`shared_buffers` is read at server start, so the tool prints the statement
to run and says a restart is needed. docker-compose.yml passes the same
values to its PostgreSQL on the command line.

Durability is never traded for speed: `fsync`, `synchronous_commit` and
`full_page_writes` are only reported, and the report says when one of them
is off. A ledger whose last commits can vanish after a crash would break the
promise the hash chain makes (every acknowledged fact is there, in order).
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Recommended:
    """One setting: the value we recommend and why (the README's performance section explains each)."""

    name: str
    value: str
    why: str


RECOMMENDED: tuple[Recommended, ...] = (
    Recommended("shared_buffers", "2GB",
                "a quarter of an 8 GB database host: the month's hot indexes (events, postings, positions, "
                "balances) stay in PostgreSQL's cache instead of going through the kernel's; needs a restart"),
    Recommended("max_wal_size", "8GB",
                "a month's collections write gigabytes of WAL; at the default 1 GB a checkpoint is forced every "
                "few seconds of a bulk load, and each one makes the next write to every page log a full image"),
    Recommended("checkpoint_timeout", "15min",
                "with max_wal_size large, checkpoints come by time: fewer full-page images, and crash recovery "
                "replays at most about 15 minutes of WAL"),
    Recommended("wal_compression", "lz4",
                "full-page images of index pages compress several times over; lz4 costs little CPU "
                "(PostgreSQL 15 built with lz4, as Debian's and the official images are)"),
    Recommended("autovacuum", "on",
                "the log is insert-only: vacuum after inserts keeps the visibility map set (index-only scans) and "
                "freezes old rows before wraparound forces it; analyze keeps plans right after a bulk load"),
)
# Reported, never changed: turning any of these off could lose acknowledged commits of the ledger.
DURABILITY: dict[str, str] = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}
# pg_settings.context values that pg_reload_conf() applies (the others need a restart).
RELOADABLE = ("sighup", "superuser", "user", "superuser-backend", "backend")


def in_effect(cursor) -> dict[str, dict]:
    """Each recommended and durability setting: its value now, how it is applied, what we recommend.

    `cursor` is any DB-API cursor on the server (psycopg or Django's).
    """
    names = [r.name for r in RECOMMENDED] + list(DURABILITY)
    cursor.execute(
        "SELECT name, current_setting(name), context, source, pending_restart FROM pg_settings "
        "WHERE name = ANY(%s)", [names])
    found = {name: (value, context, source, pending) for name, value, context, source, pending in cursor.fetchall()}
    recommended = {r.name: r.value for r in RECOMMENDED}
    out: dict[str, dict] = {}
    for name in names:
        value, context, source, pending = found.get(name, (None, None, None, False))
        out[name] = {"value": value, "recommended": recommended.get(name, DURABILITY.get(name)),
                     "reloadable": context in RELOADABLE, "source": source, "pending_restart": bool(pending),
                     "durability": name in DURABILITY}
    return out


def durability_off(settings: dict[str, dict]) -> list[str]:
    """The durability settings that are not on: figures measured so are not the ledger's."""
    return [name for name, s in settings.items() if s["durability"] and s["value"] != DURABILITY[name]]


def apply(cursor) -> list[str]:
    """ALTER SYSTEM the reloadable recommended settings, then reload; return what still needs a restart.

    The cursor must be in autocommit (ALTER SYSTEM refuses a transaction block) and a superuser's.
    """
    settings = in_effect(cursor)
    restart = []
    for r in RECOMMENDED:
        if settings[r.name]["reloadable"]:
            # Names and values are this module's constants, not input: ALTER SYSTEM takes no parameters.
            cursor.execute(f"ALTER SYSTEM SET {r.name} = '{r.value}'")  # nosec B608
        elif settings[r.name]["value"] != r.value:
            restart.append(f"ALTER SYSTEM SET {r.name} = '{r.value}'; -- then restart PostgreSQL")
    cursor.execute("SELECT pg_reload_conf()")
    return restart


def reset(cursor) -> None:
    """ALTER SYSTEM RESET what `apply` set, and reload: the server's own configuration files rule again."""
    for r in RECOMMENDED:
        if r.name != "shared_buffers":
            cursor.execute(f"ALTER SYSTEM RESET {r.name}")  # this module's constants # nosec B608
    cursor.execute("SELECT pg_reload_conf()")


def format_table(settings: dict[str, dict]) -> list[str]:
    """The settings as lines for people: value now, recommended, and whether it is met."""
    lines = []
    for name, s in settings.items():
        if s["value"] == s["recommended"]:
            mark = "as recommended"
        elif s["durability"]:
            mark = "OFF: figures not valid for the ledger"
        else:
            mark = "differs" + ("" if s["reloadable"] else " (restart to change)")
        if s["pending_restart"]:
            mark += ", pending restart"
        lines.append(f"  {name:<20} {str(s['value']):>8}   recommended {s['recommended']:>6}   {mark}")
    return lines


def main(argv=None) -> int:
    import psycopg

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--apply", action="store_true", help="ALTER SYSTEM the reloadable settings and reload")
    action.add_argument("--reset", action="store_true", help="ALTER SYSTEM RESET them and reload")
    args = parser.parse_args(argv)
    with psycopg.connect(args.database_url, autocommit=True) as conn, conn.cursor() as cursor:
        if args.apply:
            for line in apply(cursor):
                print(f"needs a restart: {line}")
        elif args.reset:
            reset(cursor)
        print("PostgreSQL settings in effect:")
        print("\n".join(format_table(in_effect(cursor))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
