"""Argument checks shared by the pure servicing modules (amounts: `ledger.domain.money.require_cents`)."""
from datetime import date


def require_date(name: str, value: object) -> None:
    # datetime is a subclass of date; a timestamp where a calendar day is meant is a bug upstream.
    if not isinstance(value, date) or hasattr(value, "hour"):
        raise ValueError(f"{name} must be a date, got {value!r}")
