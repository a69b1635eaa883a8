"""A deploy check: the application must not connect as a role that can change history.

Run it with the runtime role's DATABASE_URL, as part of the deploy:

    manage.py check --deploy --database default

It is tagged `database` (Django runs such checks only when asked with
--database, so `check --deploy` without a database stays offline) and
`deploy` (so `migrate`, which runs as the owner, is not warned about itself).
On SQLite there are no roles and nothing to warn about.
"""
from django.core.checks import Tags, Warning, register
from django.db import DatabaseError, connections


@register(Tags.database, deploy=True)
def runtime_role_cannot_change_history(app_configs=None, databases=None, **kwargs):
    from ledger.db_roles import runtime_role_problems

    warnings = []
    for alias in databases or ():
        connection = connections[alias]
        if connection.vendor != "postgresql":
            continue
        try:
            problems = runtime_role_problems(connection)
        except DatabaseError as error:
            problems = [f"its privileges could not be read ({error})"]
        if problems:
            warnings.append(Warning(
                f"database {alias!r}: the application connects as a role that can change the ledger's "
                f"history: {'; '.join(problems)}",
                hint="Run migrations as the owner, `manage.py grant_runtime_role --role <app role>` after "
                     "each migrate, and give the web, worker and beat processes the runtime role's DATABASE_URL.",
                id="ledger.W001",
            ))
    return warnings
