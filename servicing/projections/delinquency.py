"""LoanPosition handlers for delinquency aging, and the copy of `position_after` every handler of ours uses.

The services compute the position after each event and record it in the
payload, so the handlers only copy it: a replay reproduces the read model
exactly, with no rule applied twice in two places.
"""
from datetime import date

from servicing.models import LoanPosition
from servicing.projections import handles

DATE_FIELDS = frozenset({"next_due_date", "last_payment_date"})
COPIED_FIELDS = frozenset({
    "principal_balance_cents", "next_due_date", "suspense_cents", "escrow_balance_cents", "escrow_advance_cents",
    "late_charges_due_cents", "fees_due_cents", "status", "last_payment_date", "escrow_monthly_cents",
    "delinquency_bucket", "realized_loss_cents",
})


def copy_position_after(position: LoanPosition, after: dict) -> LoanPosition:
    """Set the fields named in `after` (ISO dates parsed) on the position and return it."""
    for name, value in after.items():
        if name not in COPIED_FIELDS:
            raise ValueError(f"position_after names {name!r}, which is not a LoanPosition field we copy")
        if name in DATE_FIELDS and value is not None:
            value = date.fromisoformat(value)
        setattr(position, name, value)
    return position


@handles("DelinquencyChanged", "LateChargeAssessed")
def on_position_changed(position, event):
    return copy_position_after(position, event.payload["position_after"])
