"""The runtime database role: what the application may do to the database, and nothing more.

Migrations run as the owner of the schema and its tables. The web, worker
and beat processes connect as a separate LOGIN role that owns nothing, so
that even code that goes wrong (or an attacker holding its password) cannot
change history: on the log (ledger_event, ledger_posting) it may only SELECT
and INSERT; it may read and write the read models and the other application
tables; it may read, never write, the migration record; it cannot create
objects in the schema, alter or drop a table, disable or drop a trigger,
replace the trigger functions, or skip triggers with session_replication_role
(a superuser-only setting in PostgreSQL 15).

`grant_runtime_role` is run by the owner right after every `migrate`: it
creates the role if missing, revokes everything the role was given, and
grants again over the tables that exist now, so a table added by a later
migration is covered. Default privileges let the role read a new table at
once, but it writes one only after the grant ran again (writes fail closed).
`runtime_role_problems` says what is wrong with a role; the command ends
with it, and the deploy check (ledger/deploy_checks.py) asks it of the connected role.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from psycopg import sql

from ledger.db_triggers import APPEND_ONLY_TABLES

# Read at run time (Django checks that migrations are applied), written only by `migrate`.
READ_ONLY_TABLES = ("django_migrations",)
SCHEMA = "public"
ROLE_ENV, PASSWORD_ENV = "MBS_RUNTIME_DB_ROLE", "MBS_RUNTIME_DB_PASSWORD"

# What no runtime role may hold on an append-only table: each is a way to change history.
FORBIDDEN_ON_LOG = ("UPDATE", "DELETE", "TRUNCATE", "TRIGGER", "REFERENCES")
# Role attributes that open a door past the grants (CREATEROLE can grant itself the owner role).
FORBIDDEN_ATTRIBUTES = {"rolsuper": "SUPERUSER", "rolcreaterole": "CREATEROLE", "rolbypassrls": "BYPASSRLS",
                        "rolreplication": "REPLICATION"}
# Predefined roles that give write access to every table.
FORBIDDEN_MEMBERSHIPS = ("pg_write_all_data",)


class RoleError(Exception):
    """The runtime role cannot be set up safely; the message says why and what to do."""


@dataclass
class GrantReport:
    role: str
    created: bool = False
    append_only: list[str] = field(default_factory=list)
    read_only: list[str] = field(default_factory=list)
    read_write: list[str] = field(default_factory=list)
    sequences: int = 0


def role_from_environment(role: str | None, password: str | None) -> tuple[str, str | None]:
    """The role's name and password: the arguments, else MBS_RUNTIME_DB_ROLE / MBS_RUNTIME_DB_PASSWORD."""
    role = role or os.environ.get(ROLE_ENV, "")
    if not role:
        raise RoleError(f"name the runtime role: --role or {ROLE_ENV}")
    return role, password or os.environ.get(PASSWORD_ENV) or None


def grant_runtime_role(connection, role: str, password: str | None = None) -> GrantReport:
    """Create (if missing) and grant the runtime role; idempotent. Raises RoleError if unsafe."""
    if connection.vendor != "postgresql":
        raise RoleError("database roles exist only on PostgreSQL; the embedded SQLite default has none")
    with connection.cursor() as cursor:
        q = _Quoter(connection)
        owner = _refuse_the_owner(cursor, role)
        report = GrantReport(role=role, created=_ensure_role(cursor, q, role, password))
        tables = _application_tables(cursor)
        _check_migrated(tables)
        _revoke_everything(cursor, q, role)
        _grant(cursor, q, role, owner, tables, report)
    problems = runtime_role_problems(connection, role)
    if problems:
        raise RoleError(f"role {role} is not safe to run the application as: " + "; ".join(problems))
    return report


class _Quoter:
    """Identifiers and literals quoted by the driver, never by string formatting."""

    def __init__(self, connection):
        connection.ensure_connection()
        self.raw = connection.connection

    def __call__(self, template: str, *identifiers: str, password: str | None = None) -> str:
        parts = [sql.Identifier(name) for name in identifiers]
        if password is not None:
            parts.append(sql.Literal(password))
        return sql.SQL(template).format(*parts).as_string(self.raw)


def _refuse_the_owner(cursor, role: str) -> str:
    """The owner of the log's tables, once sure `role` is neither it nor the role running this."""
    cursor.execute("SELECT current_user, tableowner FROM pg_tables WHERE schemaname = %s AND tablename = %s",
                   [SCHEMA, APPEND_ONLY_TABLES[0]])
    row = cursor.fetchone()
    if row is None:
        raise RoleError(f"{APPEND_ONLY_TABLES[0]} does not exist: run `manage.py migrate` as the owner first")
    current, owner = row
    if role in (current, owner):
        raise RoleError(f"the runtime role must not be the owner of the tables ({owner}) nor the role "
                        f"running this command ({current}): name another role")
    return owner


def _ensure_role(cursor, q: _Quoter, role: str, password: str | None) -> bool:
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
    exists = cursor.fetchone() is not None
    if not exists:
        # Creating a role needs CREATEROLE; without it, a DBA creates the role and this grants it.
        attributes = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT"
        if password:
            cursor.execute(q(f"CREATE ROLE {{}} {attributes} PASSWORD {{}}", role, password=password))
        else:
            cursor.execute(q(f"CREATE ROLE {{}} {attributes}", role))
    elif password:
        cursor.execute(q("ALTER ROLE {} PASSWORD {}", role, password=password))
    return not exists


def _application_tables(cursor) -> list[str]:
    """Every table, view and sequence-less relation of the schema (what migrations made)."""
    cursor.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm', 'f') ORDER BY c.relname",
        [SCHEMA],
    )
    return [name for (name,) in cursor.fetchall()]


def _check_migrated(tables: list[str]) -> None:
    from django.apps import apps

    expected = {m._meta.db_table for m in apps.get_models(include_auto_created=True)
                if m._meta.managed and not m._meta.proxy}
    missing = sorted(expected - set(tables))
    if missing:
        raise RoleError(f"tables of installed models are missing ({', '.join(missing[:5])}...): "
                        "run `manage.py migrate` as the owner first")


def _revoke_everything(cursor, q: _Quoter, role: str) -> None:
    # REVOKE on a table takes its column privileges with it.
    for statement in (
        "REVOKE ALL ON ALL TABLES IN SCHEMA {} FROM {}",
        "REVOKE ALL ON ALL SEQUENCES IN SCHEMA {} FROM {}",
        "REVOKE ALL ON ALL FUNCTIONS IN SCHEMA {} FROM {}",
        "REVOKE ALL ON SCHEMA {} FROM {}",
    ):
        cursor.execute(q(statement, SCHEMA, role))
    cursor.execute("SELECT current_database()")
    database = cursor.fetchone()[0]
    cursor.execute(q("REVOKE ALL ON DATABASE {} FROM {}", database, role))


def _grant(cursor, q: _Quoter, role: str, owner: str, tables: list[str], report: GrantReport) -> None:
    cursor.execute("SELECT current_database()")
    cursor.execute(q("GRANT CONNECT ON DATABASE {} TO {}", cursor.fetchone()[0], role))
    cursor.execute(q("GRANT USAGE ON SCHEMA {} TO {}", SCHEMA, role))
    for table in tables:
        if table in APPEND_ONLY_TABLES:
            privileges, bucket = "SELECT, INSERT", report.append_only
        elif table in READ_ONLY_TABLES:
            privileges, bucket = "SELECT", report.read_only
        else:
            privileges, bucket = "SELECT, INSERT, UPDATE, DELETE", report.read_write
        cursor.execute(q(f"GRANT {privileges} ON TABLE {{}}.{{}} TO {{}}", SCHEMA, table, role))
        bucket.append(table)
    cursor.execute(q("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}", SCHEMA, role))
    cursor.execute("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                   "WHERE n.nspname = %s AND c.relkind = 'S'", [SCHEMA])
    report.sequences = cursor.fetchone()[0]
    # A table a later migration (run by the owner) creates is readable at once, writable once this
    # runs again. FOR ROLE the owner: the defaults apply to what the owner creates, whoever runs this.
    cursor.execute(q("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT SELECT ON TABLES TO {}",
                     owner, SCHEMA, role))
    cursor.execute(q("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT USAGE, SELECT ON SEQUENCES TO {}",
                     owner, SCHEMA, role))
    _close_the_schema_to_everyone(cursor, q)


def _close_the_schema_to_everyone(cursor, q: _Quoter) -> None:
    """No CREATE on the schema through PUBLIC either (PostgreSQL 15's default; older clusters had it)."""
    from django.db import DatabaseError, transaction

    cursor.execute("SELECT has_schema_privilege('public', %s, 'CREATE')", [SCHEMA])
    if cursor.fetchone()[0]:
        # Only the schema's owner may; if that is someone else, the final check names the problem.
        try:
            with transaction.atomic():
                cursor.execute(q("REVOKE CREATE ON SCHEMA {} FROM PUBLIC", SCHEMA))
        except DatabaseError:
            pass


def runtime_role_problems(connection, role: str | None = None) -> list[str]:
    """What lets `role` (default: the connected role) change history or the schema; empty if nothing."""
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        role = role or cursor.fetchone()[0]
        cursor.execute("SELECT * FROM pg_roles WHERE rolname = %s", [role])
        row = cursor.fetchone()
        if row is None:
            return [f"role {role} does not exist"]
        attributes = dict(zip([c.name for c in cursor.description], row))
        problems = [f"it is {flag}" for column, flag in FORBIDDEN_ATTRIBUTES.items() if attributes[column]]
        problems += _ownership_problems(cursor, role)
        problems += _privilege_problems(cursor, role)
    return problems


def _ownership_problems(cursor, role: str) -> list[str]:
    problems = []
    # The log's tables first, then any other table, view or sequence.
    cursor.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') "
        "AND pg_has_role(%s, c.relowner, 'USAGE') ORDER BY c.relname <> ALL(%s), c.relname",
        [SCHEMA, role, list(APPEND_ONLY_TABLES)],
    )
    owned = [name for (name,) in cursor.fetchall()]
    if owned:
        problems.append(f"it owns (or acts as the owner of) {len(owned)} relations ({', '.join(owned[:3])}, ...): "
                        "it could alter them, disable or drop their triggers")
    cursor.execute("SELECT n.nspname FROM pg_namespace n WHERE n.nspname = %s AND pg_has_role(%s, n.nspowner, "
                   "'USAGE')", [SCHEMA, role])
    if cursor.fetchone():
        problems.append(f"it owns the schema {SCHEMA}")
    cursor.execute("SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                   "WHERE n.nspname = %s AND pg_has_role(%s, p.proowner, 'USAGE') LIMIT 1", [SCHEMA, role])
    owned_function = cursor.fetchone()
    if owned_function:
        problems.append(f"it owns the function {owned_function[0]}: it could replace a trigger's body")
    for predefined in FORBIDDEN_MEMBERSHIPS:
        cursor.execute("SELECT pg_has_role(%s, %s, 'USAGE')", [role, predefined])
        if cursor.fetchone()[0]:
            problems.append(f"it is a member of {predefined}")
    return problems


def _privilege_problems(cursor, role: str) -> list[str]:
    problems = []
    for table in APPEND_ONLY_TABLES:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [f"{SCHEMA}.{table}"])
        if not cursor.fetchone()[0]:
            continue
        held = [p for p in FORBIDDEN_ON_LOG if _has_table_privilege(cursor, role, table, p)]
        if held:
            problems.append(f"it may {', '.join(held)} {table}")
    cursor.execute("SELECT has_schema_privilege(%s, %s, 'CREATE')", [role, SCHEMA])
    if cursor.fetchone()[0]:
        problems.append(f"it may CREATE in the schema {SCHEMA}")
    cursor.execute("SELECT current_setting('server_version_num')::int >= 150000")
    if cursor.fetchone()[0]:
        cursor.execute("SELECT has_parameter_privilege(%s, 'session_replication_role', 'SET')", [role])
        if cursor.fetchone()[0]:
            problems.append("it may SET session_replication_role (and so skip every trigger)")
    return problems


def _has_table_privilege(cursor, role: str, table: str, privilege: str) -> bool:
    cursor.execute("SELECT has_table_privilege(%s, %s, %s)", [role, f"{SCHEMA}.{table}", privilege])
    return cursor.fetchone()[0]
