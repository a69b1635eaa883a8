"""Give the application's runtime database role exactly what it needs; run as the owner after `migrate`.

    DATABASE_URL=postgres://mbs_owner:...@db/mbs manage.py migrate
    DATABASE_URL=postgres://mbs_owner:...@db/mbs MBS_RUNTIME_DB_PASSWORD=... \\
        manage.py grant_runtime_role --role mbs_app

The role is created if missing (the owner then needs CREATEROLE; otherwise a
DBA creates it first), stripped of every privilege and granted again over
the tables that exist now: SELECT and INSERT on the log, read and write on
everything else, SELECT on the migration record. See ledger/db_roles.py.
"""
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from ledger.db_roles import PASSWORD_ENV, ROLE_ENV, RoleError, grant_runtime_role, role_from_environment


class Command(BaseCommand):
    help = "Create (if missing) and grant the runtime database role: append-only on the log, no ownership."

    def add_arguments(self, parser):
        parser.add_argument("--role", help=f"the runtime role's name (default: ${ROLE_ENV})")
        parser.add_argument("--password", help=f"set its password (default: ${PASSWORD_ENV}; prefer the "
                            "environment, a command line is visible to other users)")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="the database alias (default: default)")

    def handle(self, *args, **options):
        connection = connections[options["database"]]
        try:
            role, password = role_from_environment(options["role"], options["password"])
            # All or nothing: a failed check leaves the role's grants as they were.
            with transaction.atomic(using=options["database"]):
                report = grant_runtime_role(connection, role, password)
        except RoleError as error:
            raise CommandError(str(error)) from error
        verb = "created and granted" if report.created else "granted"
        self.stdout.write(self.style.SUCCESS(
            f"runtime role {report.role} {verb}: SELECT, INSERT on {', '.join(report.append_only)}; "
            f"SELECT on {', '.join(report.read_only) or 'nothing'}; read and write on "
            f"{len(report.read_write)} other tables; {report.sequences} sequences; owns nothing"
        ))
