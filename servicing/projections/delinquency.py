"""LoanPosition handlers for delinquency aging and late charges: they copy `position_after`."""
from servicing.projections import copy_position_after, handles


@handles("DelinquencyChanged", "LateChargeAssessed")
def on_position_changed(position, event):
    return copy_position_after(position, event.payload["position_after"])
