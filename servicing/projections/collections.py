"""LoanPosition handlers for collections events, and the payload shapes they read.

Every money event that collections records on a loan stream carries
`position_after` (the loan's position fields after the event) and
`collections` (the six period amounts the month-end close sums). The
handlers only copy `position_after` into the read model: the arithmetic
happened once, in the service, and is frozen in the log, so a replay
reproduces the read model exactly without re-running any money math.

`position_snapshot` and `collections_payload` build those two payload parts,
so writers and this reader agree on one shape.
"""
from __future__ import annotations

from datetime import date

from servicing.models import LoanPosition
from servicing.projections import handles

# The fields of LoanPosition an event's position_after sets (the contract shared with escrow and default).
POSITION_FIELDS = (
    "principal_balance_cents", "next_due_date", "suspense_cents", "escrow_balance_cents", "escrow_advance_cents",
    "late_charges_due_cents", "fees_due_cents", "status", "last_payment_date", "escrow_monthly_cents",
)
COLLECTION_KEYS = (
    "interest_cents", "scheduled_principal_cents", "curtailment_cents", "payoff_principal_cents",
    "liquidation_principal_cents", "realized_loss_cents",
)
_DATE_FIELDS = ("next_due_date", "last_payment_date")


def position_snapshot(position: LoanPosition) -> dict:
    """The position fields of a LoanPosition as JSON-safe payload values (dates ISO, status text)."""
    snapshot = {}
    for name in POSITION_FIELDS:
        value = getattr(position, name)
        if name in _DATE_FIELDS:
            value = value.isoformat() if value is not None else None
        elif name == "status":
            value = str(value)
        snapshot[name] = value
    return snapshot


def collections_payload(**amounts: int) -> dict:
    """All six collection amounts, zero where not given; refuses unknown keys and non-integers."""
    unknown = set(amounts) - set(COLLECTION_KEYS)
    if unknown:
        raise ValueError(f"unknown collection amounts: {', '.join(sorted(unknown))}")
    for key, value in amounts.items():
        if type(value) is not int:
            raise ValueError(f"{key} must be integer cents, not {type(value).__name__}")
    return {key: amounts.get(key, 0) for key in COLLECTION_KEYS}


def negated_collections(collections: dict) -> dict:
    """The collections of an event being reversed: every amount with its sign flipped."""
    return {key: -collections[key] for key in COLLECTION_KEYS}


def apply_snapshot(position: LoanPosition, snapshot: dict) -> LoanPosition:
    """Set a LoanPosition's fields from a position_after snapshot (the inverse of position_snapshot)."""
    for name in POSITION_FIELDS:
        value = snapshot[name]
        if name in _DATE_FIELDS and value is not None:
            value = date.fromisoformat(value)
        setattr(position, name, value)
    return position


@handles("PaymentPosted", "LoanPaidOff", "BorrowerRefundPaid", "PaymentReturned")
def on_collection_event(position, event):
    if position is None:
        # Nothing to track before boarding: the services refuse unknown loans, so only events appended
        # straight to the ledger (its own tests, tools) reach here, and the projection skips them.
        return None
    return apply_snapshot(position, event.payload["position_after"])
