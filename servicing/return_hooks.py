"""What else must be recorded when a borrower's payment is returned: hooks the upper layers register.

Servicing does not know about trusts (layering: trusts -> servicing -> ledger), yet a return can
change what a trust is owed: a payment the trust received before its loan was repurchased and
returned after it leaves the buyer having paid for a balance the loan no longer has. So the
trusts app registers a hook here (from its AppConfig.ready()) and `payment_return` calls every
hook right after it appends the PaymentReturned, inside the same transaction and retry attempt:
what a hook appends is committed with the return or not at all, and a conflict in a hook
retries the whole return from a fresh read.
"""
from __future__ import annotations

from collections.abc import Callable

from ledger.actors import Actor
from ledger.domain.records import RecordedEvent

# hook(returned, original, acting_user): the PaymentReturned as recorded, the payment's own event
# (PaymentPosted), and who records the return. A hook raises to refuse the return as a whole.
ReturnHook = Callable[[RecordedEvent, RecordedEvent, Actor], None]

_HOOKS: dict[str, ReturnHook] = {}


def register_return_hook(name: str, hook: ReturnHook) -> None:
    """Call `hook` after every payment return; registering a name again replaces it (ready() may run twice)."""
    _HOOKS[name] = hook


def payment_returned(returned: RecordedEvent, original: RecordedEvent, acting_user: Actor) -> None:
    """Run every registered hook, in registration order, for a return just appended."""
    for hook in list(_HOOKS.values()):
        hook(returned, original, acting_user)


def unregister_return_hook(name: str) -> None:
    """Stop calling the hook registered under `name` (for tests that register one of their own)."""
    _HOOKS.pop(name, None)
