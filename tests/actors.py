"""Who acts when a test calls a four-eyes service (a close, a payment's return) directly.

The services refuse a person alone and nobody at all (ledger.actors). A test
that stands in for the schedule imports `period_close` and `payment_return`
from here: the services themselves, called by the TESTS system actor unless
the call names its own acting_user. A test of four eyes calls the services
with a requester and an approver instead.
"""
from ledger.actors import SystemActor
from remittance.services import closing
from servicing.services import payment_returns

TESTS = SystemActor("tests")


def period_close(**kwargs):
    """remittance.services.closing.period_close, by the system unless acting_user is given."""
    return closing.period_close(**{"acting_user": TESTS, **kwargs})


def payment_return(**kwargs):
    """servicing.services.payment_returns.payment_return, by the system unless acting_user is given."""
    return payment_returns.payment_return(**{"acting_user": TESTS, **kwargs})
