"""LoanPosition handlers for escrow events: copy the position the service computed after each."""
from servicing.projections import handles
from servicing.projections import copy_position_after


@handles("EscrowItemAdded", "EscrowDisbursed", "EscrowAnalyzed")
def on_escrow_event(position, event):
    # EscrowItemAdded changes no figure; it still needs a handler so stream_version follows the stream.
    return copy_position_after(position, event.payload["position_after"])
