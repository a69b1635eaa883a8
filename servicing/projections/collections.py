"""LoanPosition handler for collections events: it copies `position_after`."""
from servicing.projections import copy_position_after, handles


@handles("PaymentPosted", "LoanPaidOff", "BorrowerRefundPaid", "PaymentReturned")
def on_collection_event(position, event):
    return copy_position_after(position, event.payload["position_after"])
