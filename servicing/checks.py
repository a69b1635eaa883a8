"""Argument checks shared by the pure servicing modules."""
from datetime import date


def require_cents(name: str, value: object, *, positive: bool = False) -> None:
    if type(value) is not int:
        raise ValueError(f"{name} must be integer cents, not {type(value).__name__}")
    if value < 0 or (positive and value == 0):
        raise ValueError(f"{name} must be {'positive' if positive else 'zero or more'}, got {value}")


def require_date(name: str, value: object) -> None:
    # datetime is a subclass of date; a timestamp where a calendar day is meant is a bug upstream.
    if not isinstance(value, date) or hasattr(value, "hour"):
        raise ValueError(f"{name} must be a date, got {value!r}")
