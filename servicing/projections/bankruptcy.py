"""LoanPosition handlers for bankruptcy events: a filing sets the open case's chapter and date, its end clears them."""
from servicing.events import BANKRUPTCY_EVENTS
from servicing.projections import fold_event, handles

handles(*(c.event_type for c in BANKRUPTCY_EVENTS))(fold_event)
