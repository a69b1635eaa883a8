"""LoanPosition handlers for default events: foreclosure, REO, liquidation and charge-off fold their decisions."""
from servicing.projections import fold_event, handles

handles("ForeclosureStarted", "ReoAcquired", "LoanLiquidated", "LoanChargedOff")(fold_event)
