"""LoanPosition handlers for escrow events: bills paid or advanced, the analysis's new payment and refund."""
from servicing.projections import fold_event, handles

# EscrowItemAdded changes no figure; it still needs a handler so stream_version follows the stream.
handles("EscrowItemAdded", "EscrowDisbursed", "EscrowAnalyzed")(fold_event)
