"""Named points in the services and tasks where a test may act on this process: inert unless a test installs a hook.

A service marks a point of its work with `reached("close:appended")`. In a
deployed process no hook is ever installed, so a point costs one check of an
empty list and does nothing: this module reads no environment variable and
holds no fault machinery. The reliability tests install a hook (tests/faults.py)
in the worker or command they start, to SIGKILL or pause that process at a
named point (a pulled plug, a database restarted under it).

The points, by name (tests refer to them; keep them stable):
- `import:chunk`        a payment file's chunk worked out in memory, nothing written
                        (servicing.services.payment_files)
- `import:appended`     every event of a payment file appended, the file not committed
- `close:started`       a trust's close, or a group's closes, begun (remittance.services.closing)
- `close:appended`      every event of the close (of every trust of the group) appended, nothing committed
- `reconciler:closed`   one period closed by the reconciler, its run unfinished
- `close:committed`     the close (the group's) committed, its task's message not yet acknowledged
                        (remittance.tasks)
- `month-end:enqueued`  the month-end's closes enqueued, the fan-out not yet acknowledged
"""
from __future__ import annotations

from collections.abc import Callable

Hook = Callable[[str], None]

_installed: list[Hook] = []


def reached(point: str) -> None:
    """This process has reached the named point: call each hook installed here (none, outside tests)."""
    if _installed:
        for hook in tuple(_installed):
            hook(point)


def install(hook: Hook) -> None:
    """Call `hook(point)` at every point this process reaches from now on (tests only)."""
    _installed.append(hook)


def uninstall(hook: Hook) -> None:
    """Stop calling `hook`; a hook not installed is ignored."""
    if hook in _installed:
        _installed.remove(hook)
