"""LoanPosition handlers for loss-mitigation events: plans, deferral and modification fold their decisions."""
from servicing.events import LOSS_MITIGATION_EVENTS
from servicing.projections import fold_event, handles

handles(*(c.event_type for c in LOSS_MITIGATION_EVENTS))(fold_event)
