"""What a close request can be told instead of a close: each names the trust and period."""
from remittance.domain.close_figures import CloseRefused, ReconciliationError

__all__ = ["CloseRefused", "ReconciliationError", "PeriodAlreadyClosed", "CloseInProgress", "CloseNotApproved"]


class PeriodAlreadyClosed(CloseRefused):
    """The period was closed before; its distributions stand and are never paid twice."""

    def __init__(self, trust_code: str, period: str):
        super().__init__(f"{trust_code} {period} is already closed")
        self.trust_code, self.period = trust_code, period


class CloseInProgress(CloseRefused):
    """Another worker is closing the period right now."""

    def __init__(self, trust_code: str, period: str):
        super().__init__(f"{trust_code} {period} is being closed right now; ask again for its result")
        self.trust_code, self.period = trust_code, period


class CloseNotApproved(CloseRefused):
    """A person asked for a close without a second staff member's approval (four eyes); nothing was written.

    Only an approved request (approvals) or the system (ledger.actors.SystemActor) may close.
    """
