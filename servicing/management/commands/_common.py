"""Shared parsing for management commands: the acting user, dates, dollars and files."""
from datetime import date

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from ledger.actors import OPERATOR_COMMAND, Actor
from ledger.business_time import BusinessDateError, require_not_future, today
from ledger.domain.money import MoneyFormatError, cents_from_dollars


def acting_user(username: str | None) -> Actor:
    """Who the command acts as: the login named by --user, or the operator's command (the system) without one."""
    if not username:
        return OPERATOR_COMMAND
    try:
        return get_user_model().objects.get(username=username)
    except get_user_model().DoesNotExist:
        raise CommandError(f"no user named {username!r}") from None


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{text!r} is not an ISO date (YYYY-MM-DD)") from None


def past_date(text: str) -> date:
    """An ISO date that is not after the business date: what a command records has already happened."""
    try:
        return require_not_future("the date", iso_date(text))
    except BusinessDateError as error:
        raise CommandError(str(error)) from None


def business_today() -> date:
    """The business date (ledger.business_time), the default of every command's date."""
    return today()


def read_file(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as error:
        raise CommandError(f"cannot read {path}: {error.strerror}") from None


def dollars_option(option: str):
    """An argparse type reading dollars with cents ("849.55") into integer cents, naming the option.

    ledger.domain.money's strict parser: no negative, no decimal comma, no exponent.
    """
    def parse(text: str) -> int:
        try:
            return cents_from_dollars(text)
        except MoneyFormatError as error:
            raise CommandError(f"{option}: {error}") from None

    return parse
