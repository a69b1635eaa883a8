"""LoanPosition handlers for escrow events: bills paid or advanced, the analysis's new payment and refund."""
from servicing.events import EscrowAnalyzed, EscrowDisbursed, EscrowItemAdded
from servicing.projections import fold_event, handles

# EscrowItemAdded changes no figure; it still needs a handler so stream_version follows the stream.
handles(EscrowItemAdded.event_type, EscrowDisbursed.event_type, EscrowAnalyzed.event_type)(fold_event)
