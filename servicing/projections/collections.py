"""LoanPosition handler for collections events: each folds its decision (how the money was applied)."""
from servicing.events import BorrowerRefundPaid, LoanPaidOff, PaymentPosted, PaymentReturned
from servicing.projections import fold_event, handles

handles(*(c.event_type for c in (PaymentPosted, LoanPaidOff, BorrowerRefundPaid, PaymentReturned)))(fold_event)
