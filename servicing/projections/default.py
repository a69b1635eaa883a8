"""LoanPosition handlers for default events: foreclosure, REO, liquidation and charge-off fold their decisions."""
from servicing.events import ForeclosureStarted, LoanChargedOff, LoanLiquidated, ReoAcquired
from servicing.projections import fold_event, handles

handles(*(c.event_type for c in (ForeclosureStarted, ReoAcquired, LoanLiquidated, LoanChargedOff)))(fold_event)
