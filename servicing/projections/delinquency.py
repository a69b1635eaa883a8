"""LoanPosition handlers for delinquency aging and late charges: the new bucket, the charge added."""
from servicing.events import DelinquencyChanged, LateChargeAssessed
from servicing.projections import fold_event, handles

handles(DelinquencyChanged.event_type, LateChargeAssessed.event_type)(fold_event)
