"""Real concurrent callers on PostgreSQL: each in its own thread and connection, released together."""
import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import connections

from trusts.errors import TrustError


def race(action, arguments) -> list[str]:
    """Call `action(argument)` for every argument at once; each outcome is "done" or the TrustError's message."""
    barrier = threading.Barrier(len(arguments))

    def contender(argument):
        try:
            barrier.wait()
            action(argument)
            return "done"
        except TrustError as refused:
            return str(refused)
        finally:
            # Each thread opened its own connection; close it so the test database can be flushed.
            connections.close_all()

    with ThreadPoolExecutor(len(arguments)) as pool:
        return list(pool.map(contender, arguments))
