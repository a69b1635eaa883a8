"""LoanPosition handler for collections events: each folds its decision (how the money was applied)."""
from servicing.projections import fold_event, handles

handles("PaymentPosted", "LoanPaidOff", "BorrowerRefundPaid", "PaymentReturned")(fold_event)
