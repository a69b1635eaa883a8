"""LoanPosition handlers for default events: foreclosure, REO, liquidation and charge-off."""
from servicing.projections import handles
from servicing.projections import copy_position_after


@handles("ForeclosureStarted", "ReoAcquired", "LoanLiquidated", "LoanChargedOff")
def on_default_event(position, event):
    return copy_position_after(position, event.payload["position_after"])
