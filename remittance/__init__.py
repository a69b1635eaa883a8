"""Remittance: the month-end close, the waterfall, distributions to holders, and reports."""
