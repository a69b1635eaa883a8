"""Argument checks shared by the pure servicing modules."""
from datetime import date, datetime


def require_cents(name: str, value: object, *, positive: bool = False) -> None:
    if type(value) is not int:
        raise ValueError(f"{name} must be integer cents, not {type(value).__name__}")
    if value < 0 or (positive and value == 0):
        raise ValueError(f"{name} must be {'positive' if positive else 'zero or more'}, not {value}")


def require_date(name: str, value: object) -> None:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise ValueError(f"{name} must be a date, not {type(value).__name__}")
