"""State machines whose every example runs in its own savepoint, rolled back at its end.

Examples then start from empty books without flushing the database. The deferred foreign keys are
checked before the rollback, as a commit would check them; the services' own transactions nest inside.
"""
from django.db import connection, transaction
from hypothesis.stateful import RuleBasedStateMachine


class RolledBackMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()

    def teardown(self):
        try:
            if not connection.needs_rollback:
                connection.check_constraints()  # the deferred foreign keys, as a commit would check them
        finally:
            transaction.set_rollback(True)
            self._atomic.__exit__(None, None, None)
