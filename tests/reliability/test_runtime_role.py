"""The database as the last line: the application's runtime role cannot change history.

A database of its own, an owner role (no superuser) that migrates it and owns
every table, and a runtime role made by `grant_runtime_role`. As the runtime
role the application's real work succeeds (boarding, forming a trust, posting
payments, the month-end close through its Celery tasks, a holding transfer,
a ledger append, verify_ledger); and every way to change or unguard the log
is refused by PostgreSQL itself: UPDATE, DELETE and TRUNCATE are refused by
privilege before any trigger runs, and the triggers cannot be disabled,
dropped or skipped. Roles are cluster-wide, so every name is unique to the run.

The steps that need Django as another role run in a subprocess of this very
module: `python -m tests.reliability.test_runtime_role owner|runtime`.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "k3y-" + "x9Qz7-Lm2PvR8sT4wY6bN1cH5jD0fG3aE" * 2
PERMISSION_DENIED = "42501"  # insufficient_privilege: "permission denied ..." and "must be owner of ..."

pytestmark = [pytest.mark.postgres_only]


@dataclass
class Deployment:
    database: str
    owner: str
    runtime: str
    owner_url: str
    runtime_url: str
    connect: dict
    deployed: dict
    results: dict


def _admin_connect():
    from django.conf import settings

    db = settings.DATABASES["default"]
    return {"host": db["HOST"] or "127.0.0.1", "port": db["PORT"] or 5432, "user": db["USER"],
            "password": db["PASSWORD"] or None}


def _url(role: str, password: str, connect: dict, database: str) -> str:
    return f"postgres://{role}:{password}@{connect['host']}:{connect['port']}/{database}"


def _environment(url: str, extra_env=None) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in {"CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "CACHE_URL", "DEBUG", "SECRET_KEY",
                        "ALLOWED_HOSTS", "MBS_RUNTIME_DB_ROLE", "MBS_RUNTIME_DB_PASSWORD"}}
    env.update({"DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings", **(extra_env or {})})
    return env


def _start(url: str, *command: str, extra_env=None) -> subprocess.Popen:
    """A step of this module (owner, runtime) or a manage.py command, connected with `url`."""
    if command[0] != "manage.py":
        command = ("-m", "tests.reliability.test_runtime_role", *command)
    return subprocess.Popen([sys.executable, *command], cwd=ROOT, env=_environment(url, extra_env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(process: subprocess.Popen, timeout=300) -> subprocess.CompletedProcess:
    stdout, stderr = process.communicate(timeout=timeout)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def _answer(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def deployment():
    """A fresh database migrated by its owner and granted to the runtime role; dropped afterwards.

    The owner's step runs first, then the runtime role's (each is a Django process: startup dominates).
    """
    import psycopg
    from django.conf import settings

    suffix = f"{os.getpid()}_{secrets.token_hex(3)}"
    base = re.sub(r"[^a-z0-9_]", "_", settings.DATABASES["default"]["NAME"].lower())[:30]
    database, owner, runtime = f"{base}_roles_{suffix}", f"mbs_owner_{suffix}", f"mbs_app_{suffix}"
    owner_password, runtime_password = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    connect = _admin_connect()
    admin = psycopg.connect(dbname="postgres", autocommit=True, **connect)
    try:
        # CREATEROLE so that grant_runtime_role can create the runtime role itself.
        admin.execute(f'CREATE ROLE "{owner}" LOGIN CREATEROLE NOSUPERUSER PASSWORD \'{owner_password}\'')
        admin.execute(f'CREATE DATABASE "{database}" OWNER "{owner}"')
        owner_url = _url(owner, owner_password, connect, database)
        runtime_url = _url(runtime, runtime_password, connect, database)
        started = time.monotonic()
        deployed = _answer(_finish(_start(owner_url, "owner", extra_env={
            "MBS_RUNTIME_DB_ROLE": runtime, "MBS_RUNTIME_DB_PASSWORD": runtime_password,
            "MBS_TEST_RUNTIME_URL": runtime_url})))
        deployed["seconds"] = round(time.monotonic() - started, 1)
        # In production mode (DEBUG=false), as the web, worker and beat processes run.
        work = _start(runtime_url, "runtime",
                      extra_env={"DEBUG": "false", "SECRET_KEY": STRONG_KEY, "ALLOWED_HOSTS": "mbs.example.com"})
        started = time.monotonic()
        results = {"work": _answer(_finish(work)), "work_seconds": round(time.monotonic() - started, 1)}
        yield Deployment(database, owner, runtime, owner_url, runtime_url, connect, deployed, results)
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.execute(f'DROP ROLE IF EXISTS "{runtime}"')
        admin.execute(f'DROP ROLE IF EXISTS "{owner}"')
        admin.close()


def _connect_as(deployment: Deployment, role: str, url: str):
    import psycopg
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return psycopg.connect(host=parts.hostname, port=parts.port, user=role, password=parts.password,
                           dbname=deployment.database, autocommit=True)


def test_the_owner_deploys_and_the_grant_is_idempotent(deployment):
    deployed = deployment.deployed
    assert deployed["first"].startswith(f"runtime role {deployment.runtime} created and granted")
    assert deployed["again"].startswith(f"runtime role {deployment.runtime} granted")
    assert "SELECT, INSERT on ledger_event, ledger_posting" in deployed["again"]
    assert "must not be the owner" in deployed["grant_to_owner"]
    # The owner may change history (it owns the tables): the deploy check says so.
    assert deployed["owner_warnings"] == ["ledger.W001"]


def test_the_application_works_as_the_runtime_role(deployment, figures):
    work = deployment.results["work"]
    assert work["role"] == deployment.runtime
    assert work["closed"] == [["XYZ-2026-1", "2026-02"]]
    assert work["distributions"] == 10
    assert work["appended"] == 1 and work["transferred"] is True
    assert work["statistics_refreshed"] is True  # the month-end's ANALYZE works without owning a table
    assert work["verified"] is True, work["problems"]
    assert work["problems_of_role"] == [] and work["warnings"] == []
    figures.record("runtime role: migrate as owner, grant, the application's work as the runtime role",
                   outcome="succeeded", events=work["events"], postings=work["postings"],
                   owner_seconds=deployment.deployed["seconds"], work_seconds=deployment.results["work_seconds"])


def test_production_check_deploy_passes_as_the_runtime_role(deployment):
    assert "System check identified no issues" in deployment.results["work"]["check_deploy"]


REFUSED = [
    ("UPDATE ledger_event SET payload = '{}'", "permission denied for table ledger_event"),
    ("DELETE FROM ledger_event", "permission denied for table ledger_event"),
    ("TRUNCATE ledger_event", "permission denied for table ledger_event"),
    ("UPDATE ledger_posting SET amount_cents = amount_cents * 2", "permission denied for table ledger_posting"),
    ("DELETE FROM ledger_posting", "permission denied for table ledger_posting"),
    ("TRUNCATE ledger_posting", "permission denied for table ledger_posting"),
    ("TRUNCATE ledger_event, ledger_posting CASCADE", "permission denied for table ledger_"),
    ("ALTER TABLE ledger_event DISABLE TRIGGER ledger_event_no_update_delete", "must be owner of table ledger_event"),
    ("ALTER TABLE ledger_posting DISABLE TRIGGER ALL", "must be owner of table ledger_posting"),
    ("ALTER TABLE ledger_posting DISABLE TRIGGER USER", "must be owner of table ledger_posting"),
    ("DROP TRIGGER ledger_posting_no_update_delete ON ledger_posting", "must be owner of relation ledger_posting"),
    ("DROP TRIGGER ledger_event_no_truncate ON ledger_event", "must be owner of relation ledger_event"),
    ("DROP TABLE ledger_posting", "must be owner of table ledger_posting"),
    ("DROP TABLE ledger_event CASCADE", "must be owner of table ledger_event"),
    ("ALTER TABLE ledger_event OWNER TO CURRENT_USER", "must be owner of table ledger_event"),
    ("ALTER TABLE ledger_event RENAME TO ledger_event_old", "must be owner of table ledger_event"),
    ("SET session_replication_role = replica", 'permission denied to set parameter "session_replication_role"'),
    ("ALTER ROLE CURRENT_USER SET session_replication_role = replica",
     'permission denied to set parameter "session_replication_role"'),
    ("CREATE TABLE public.shadow_log (id int)", "permission denied for schema public"),
    ("CREATE OR REPLACE FUNCTION public.ledger_reject_change() RETURNS trigger LANGUAGE plpgsql "
     "AS $$ BEGIN RETURN NEW; END $$", "permission denied for schema public"),
    ("ALTER FUNCTION public.ledger_reject_change() RENAME TO unguarded", "must be owner of function"),
    ("ALTER ROLE CURRENT_USER SUPERUSER", "must be superuser to alter superuser roles"),
    ("GRANT {owner} TO CURRENT_USER", 'must have admin option on role "{owner}"'),
    ("SET ROLE {owner}", 'permission denied to set role "{owner}"'),
]


@pytest.mark.parametrize("statement, error", REFUSED, ids=[s.split(" public")[0][:60] for s, _ in REFUSED])
def test_the_runtime_role_is_refused(deployment, statement, error):
    import psycopg

    statement, error = (s.replace("{owner}", deployment.owner) for s in (statement, error))
    with _connect_as(deployment, deployment.runtime, deployment.runtime_url) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege) as refused:
            conn.execute(statement)
    assert refused.value.sqlstate == PERMISSION_DENIED
    assert error in str(refused.value), str(refused.value)


def test_the_runtime_role_cannot_grant_itself_more(deployment):
    """GRANT by a role without grant options is no error in PostgreSQL, only a warning: it grants nothing."""
    import psycopg

    notices = []
    with _connect_as(deployment, deployment.runtime, deployment.runtime_url) as conn:
        conn.add_notice_handler(lambda diagnostic: notices.append(diagnostic.message_primary))
        conn.execute(f'GRANT UPDATE, DELETE, TRUNCATE ON ledger_event, ledger_posting TO "{deployment.runtime}"')
        assert any("no privileges were granted" in n for n in notices), notices
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied for table ledger_event"):
            conn.execute("UPDATE ledger_event SET payload = '{}'")
        privileges = conn.execute(
            "SELECT has_table_privilege(current_user, 'ledger_event', 'UPDATE'), "
            "has_table_privilege(current_user, 'ledger_posting', 'DELETE'), "
            "(SELECT rolsuper FROM pg_roles WHERE rolname = current_user)").fetchone()
    assert privileges == (False, False, False)


def test_a_table_a_later_migration_adds_is_written_only_after_the_grant_runs_again(deployment):
    later = deployment.deployed["later_table"]
    assert later == {"readable_at_once": True, "insert_before_grant": "permission denied for table later_feature",
                     "insert_after_grant": "inserted"}


# --- The steps run as the owner and as the runtime role, each in its own process -----------------------------


def _owner_step() -> dict:
    """Migrate, grant (twice: idempotent), refuse the owner itself, the deploy check as the owner, a later table."""
    from django.core.management import call_command
    from django.core.management.base import CommandError
    from django.db import connection

    from ledger.deploy_checks import runtime_role_cannot_change_history

    call_command("migrate", interactive=False, verbosity=0)
    answers = {"first": _grant(), "again": _grant()}
    try:
        call_command("grant_runtime_role", role=connection.settings_dict["USER"])
        answers["grant_to_owner"] = "granted (wrongly)"
    except CommandError as refused:
        answers["grant_to_owner"] = str(refused)
    answers["owner_warnings"] = [w.id for w in runtime_role_cannot_change_history(databases=["default"])]
    answers["later_table"] = _a_later_migration_adds_a_table()
    return answers


def _grant() -> str:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("grant_runtime_role", stdout=out)
    return out.getvalue().strip()


def _a_later_migration_adds_a_table() -> dict:
    """What the runtime role may do to a table created after the grant: read it, write it once granted again."""
    import psycopg
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE later_feature (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, note text)")
    answers = {}
    with psycopg.connect(os.environ["MBS_TEST_RUNTIME_URL"], autocommit=True) as runtime:
        answers["readable_at_once"] = runtime.execute("SELECT count(*) FROM later_feature").fetchone() == (0,)
        try:
            runtime.execute("INSERT INTO later_feature (note) VALUES ('too early')")
            answers["insert_before_grant"] = "inserted"
        except psycopg.errors.InsufficientPrivilege as refused:
            answers["insert_before_grant"] = str(refused)
        _grant()
        runtime.execute("INSERT INTO later_feature (note) VALUES ('after the grant')")
        notes = runtime.execute("SELECT note FROM later_feature").fetchall()
        answers["insert_after_grant"] = "inserted" if notes == [("after the grant",)] else repr(notes)
    return answers


def _runtime_step() -> dict:
    """As the runtime role: `check --deploy`, then board, form, pay, the month-end, a transfer, an append, verify."""
    from datetime import date
    from io import StringIO

    from django.core.management import call_command
    from django.db import connection

    from config import celery_app

    from ledger.deploy_checks import runtime_role_cannot_change_history
    from ledger.db_roles import runtime_role_problems
    from ledger.services import append
    from ledger.verification import verify
    from remittance.models import Distribution, PeriodResult
    from remittance.services.closing import month_end_prepare
    from remittance.tasks import month_end_close_task
    from tests.actors import TESTS
    from tests.integration.ledger.helpers import cash_event
    from tests.integration.remittance.months import pay_everyone, seed_trust
    from tests.integration.servicing.tapes import board, seed_rows
    from tests.integration.trusts.deals import transfer

    celery_app.loader.import_default_modules()  # every app's tasks, as a worker has them
    check = StringIO()
    call_command("check", deploy=True, databases=["default"], fail_level="WARNING", stdout=check)
    board(*seed_rows(10))
    seed_trust()
    pay_everyone("2026-02")
    month_end_close_task("2026-02", "2026-03-01")  # eager: aging, autopay, ANALYZE, the fan-out, the close
    transfer(trade_date=date(2026, 3, 2), settlement_date=date(2026, 3, 4))
    appended = append(stream="ops:runtime-role", expected_version=0, events=[cash_event(1_234)], acting_user=TESTS)
    report = verify()
    month_end_prepare()  # ANALYZE through the owner's function: the runtime role owns no table
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        role = cursor.fetchone()[0]
        cursor.execute("SELECT reltuples::bigint = (SELECT COUNT(*) FROM ledger_posting) FROM pg_class "
                       "WHERE relname = 'ledger_posting'")
        analyzed = cursor.fetchone()[0]
    return {
        "role": role,
        "closed": sorted([r.trust.code, r.period] for r in PeriodResult.objects.select_related("trust")),
        "distributions": Distribution.objects.count(),
        "transferred": True,
        "appended": len(appended),
        "statistics_refreshed": analyzed,
        "verified": report.ok, "problems": report.problems[:3], "events": report.events, "postings": report.postings,
        "problems_of_role": runtime_role_problems(connection),
        "warnings": [w.id for w in runtime_role_cannot_change_history(databases=["default"])],
        "check_deploy": check.getvalue(),
    }


if __name__ == "__main__":
    import django

    django.setup()
    step = {"owner": _owner_step, "runtime": _runtime_step}[sys.argv[1]]
    print(json.dumps(step(), default=str))
