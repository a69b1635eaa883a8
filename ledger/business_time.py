"""Business time: the one answer to "what is today" for every dated money fact, and the one rule
every date a caller gives must pass.

The business clock is the wall clock's local date, unless it was fixed in one of two explicit
ways: `business_day(day)` for a block of code (the demo and in-process tests), or the
BUSINESS_DATE setting (from the environment) for whole processes such as a test's Celery worker.
Nothing else may decide what today is: no patching of `timezone.localdate`.

`dated_fact_check` is the rule a dated fact passes before anything is written: its date is a real
date, not after today, and whatever the apps registered (`register_dated_fact_rule`) holds: not
before the loan was boarded, not before the cut-off of the trust that owns the loan, not inside a
period already closed for that trust. Rules are registered from the apps that know them (servicing,
trusts, remittance) so the ledger stays at the bottom of the layers and there is still one place
every dated fact goes through.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.utils import timezone

_fixed = threading.local()
_process_fixed: list[date] = []


class BusinessDateError(ValueError):
    """A date a caller gave is not one the books can take; the message says which and why."""


def today() -> date:
    """The business date: fixed by `business_day` or BUSINESS_DATE, else the wall clock's local date."""
    day = getattr(_fixed, "day", None)
    if day is not None:
        return day
    if _process_fixed:
        return _process_fixed[-1]
    configured = getattr(settings, "BUSINESS_DATE", None)
    if configured:
        return configured if isinstance(configured, date) else date.fromisoformat(str(configured))
    return timezone.localdate()


@contextmanager
def business_day(day: date, *, all_threads: bool = False) -> Iterator[date]:
    """Run the block with the business clock fixed at `day`.

    By default only this thread sees it; `all_threads=True` fixes it for the whole process
    (tests whose services run in worker threads).
    """
    if not isinstance(day, date) or hasattr(day, "hour"):
        raise TypeError(f"business_day needs a date, got {day!r}")
    if all_threads:
        _process_fixed.append(day)
        try:
            yield day
        finally:
            _process_fixed.pop()
        return
    previous = getattr(_fixed, "day", None)
    _fixed.day = day
    try:
        yield day
    finally:
        _fixed.day = previous


@dataclass(frozen=True, slots=True)
class DatedFact:
    """A dated money fact about to be recorded: what it is, on what date, about which loan or trust."""

    what: str
    on: date
    loan_number: str | None = None
    trust_code: str | None = None


DatedFactRule = Callable[[DatedFact], "str | None"]
# The same rule over many facts at once (one query for a file's rows, not one per row): each fact's answer.
ManyFactsRule = Callable[[Sequence[DatedFact]], "list[str | None]"]
_rules: list[tuple[str, DatedFactRule]] = []
_many: dict[str, ManyFactsRule] = {}


def register_dated_fact_rule(name: str, rule: DatedFactRule, *, many: ManyFactsRule | None = None) -> None:
    """Add a rule (returning a problem, or None) that every dated fact passes; once per name.

    `many`, if given, answers exactly what `rule` answers for each of many facts, reading them together
    (`dated_facts_problems`)."""
    if all(existing != name for existing, _ in _rules):
        _rules.append((name, rule))
        if many is not None:
            _many[name] = many


def require_date(what: str, value: object) -> date:
    """`value` as a date, or a BusinessDateError naming `what`; a datetime is not a date."""
    if not isinstance(value, date) or hasattr(value, "hour"):
        raise BusinessDateError(f"{what} must be a date (YYYY-MM-DD), got {value!r}")
    return value


def require_not_future(what: str, value: object) -> date:
    """`value` as a date not after the business date: books record what has happened, never what will."""
    return _not_after(what, value, today())


def _not_after(what: str, value: object, now: date) -> date:
    day = require_date(what, value)
    if day > now:
        raise BusinessDateError(f"{what} {day.isoformat()} is in the future (today is {now.isoformat()})")
    return day


def dated_fact_check(fact: DatedFact) -> date:
    """The rule for every dated money fact: a date, not in the future, and every registered rule holds."""
    subject = _owner(fact) + fact.what
    require_not_future(subject, fact.on)
    for _, rule in _rules:
        problem = rule(fact)
        if problem:
            raise BusinessDateError(f"{subject} {fact.on.isoformat()}: {problem}")
    return fact.on


def dated_facts_problems(facts: Sequence[DatedFact]) -> list[str | None]:
    """What `dated_fact_check` would refuse each fact with (its message), None for a fact that passes.

    The same checks in the same order, so each fact gets the same first problem; a rule registered
    with `many` reads every fact still passing at once instead of once per fact."""
    problems: list[str | None] = []
    now = today()  # once for the batch, not once a fact (a payment file's 20,000 rows)
    for fact in facts:
        try:
            _not_after(_owner(fact) + fact.what, fact.on, now)
            problems.append(None)
        except BusinessDateError as error:
            problems.append(str(error))
    for name, rule in _rules:
        passing = [i for i, problem in enumerate(problems) if problem is None]
        if not passing:
            break
        many = _many.get(name)
        found = many([facts[i] for i in passing]) if many else [rule(facts[i]) for i in passing]
        for i, problem in zip(passing, found):
            if problem:
                fact = facts[i]
                problems[i] = f"{_owner(fact) + fact.what} {fact.on.isoformat()}: {problem}"
    return problems


def _owner(fact: DatedFact) -> str:
    """Whose fact it is, as the error message starts: "loan L1: ", "trust T1: "."""
    if fact.loan_number and fact.trust_code:
        return f"loan {fact.loan_number} in trust {fact.trust_code}: "
    if fact.loan_number:
        return f"loan {fact.loan_number}: "
    if fact.trust_code:
        return f"trust {fact.trust_code}: "
    return ""


def parse_as_of(text: str | None, *, what: str = "--as-of") -> date:
    """An as-of date given on a command line or to a task: today when absent, never in the future."""
    if text is None or text == "":
        return today()
    if isinstance(text, date):
        return require_not_future(what, text)
    try:
        day = date.fromisoformat(str(text))
    except ValueError:
        raise BusinessDateError(f"{what} {text!r} is not a date (YYYY-MM-DD)") from None
    return require_not_future(what, day)
