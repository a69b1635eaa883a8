"""LoanPosition handlers for delinquency aging and late charges: the new bucket, the charge added."""
from servicing.projections import fold_event, handles

handles("DelinquencyChanged", "LateChargeAssessed")(fold_event)
