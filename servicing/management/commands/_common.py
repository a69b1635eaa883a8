"""Shared parsing for management commands: the acting user, dates, dollars and files."""
from datetime import date

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from ledger.money import MoneyFormatError, cents_from_dollars


def acting_user(username: str | None):
    if not username:
        return None
    try:
        return get_user_model().objects.get(username=username)
    except get_user_model().DoesNotExist:
        raise CommandError(f"no user named {username!r}") from None


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{text!r} is not an ISO date (YYYY-MM-DD)") from None


def read_file(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as error:
        raise CommandError(f"cannot read {path}: {error.strerror}") from None


def dollars_option(option: str):
    """An argparse type reading dollars with cents ("849.55") into integer cents, naming the option.

    ledger.money's strict parser: no negative, no decimal comma, no exponent.
    """
    def parse(text: str) -> int:
        try:
            return cents_from_dollars(text)
        except MoneyFormatError as error:
            raise CommandError(f"{option}: {error}") from None

    return parse
