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

A rule's answer can change between the check and the write: a trust formed (a new cut-off), a loan
removed from a pool, a period closed by another transaction meanwhile. So each rule says which read
models it looks at (`reads`), and a writer that checked its facts without the log's lock remembers
the log's position first (`last_recorded_position`), then, under the lock, asks whether an event that
changes one of those read models was recorded since (`dated_rules_moved`: no query at all when nothing
was recorded, one otherwise) and asks again only the rules whose read models moved (the facts passed
the others, whose answers stand). A writer of one dated fact gets all of that from `checked_fact`: the
fact checked, and a `CheckedFact` whose `still_holds` is the check to make under the lock.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterator, Sequence
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
# The read models (Django model classes) each rule looks at; None: it did not say, so it may read anything.
_reads: dict[str, "tuple[type, ...] | None"] = {}


def register_dated_fact_rule(name: str, rule: DatedFactRule, *, many: ManyFactsRule | None = None,
                             reads: "tuple[type, ...] | None" = None) -> None:
    """Add a rule (returning a problem, or None) that every dated fact passes; once per name.

    `many`, if given, answers exactly what `rule` answers for each of many facts, reading them together
    (`dated_facts_problems`). `reads`: the read models (projections' models) the rule's answer comes
    from; the events that change them are those of the projections that write them (`dated_rules_moved`).
    A rule that does not say is taken to read everything: any event recorded since a check counts."""
    if all(existing != name for existing, _ in _rules):
        _rules.append((name, rule))
        _reads[name] = tuple(reads) if reads is not None else None
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


def dated_facts_problems(facts: Sequence[DatedFact], *, only: Collection[str] | None = None) -> list[str | None]:
    """What `dated_fact_check` would refuse each fact with (its message), None for a fact that passes.

    The same checks in the same order, so each fact gets the same first problem; a rule registered
    with `many` reads every fact still passing at once instead of once per fact. `only`: the clock's
    check and the rules of these names only, for facts every other rule passed already (the rules
    `dated_rules_moved` names: the others' answers stand)."""
    problems: list[str | None] = []
    now = today()  # once for the batch, not once a fact (a payment file's 20,000 rows)
    for fact in facts:
        try:
            _not_after(_owner(fact) + fact.what, fact.on, now)
            problems.append(None)
        except BusinessDateError as error:
            problems.append(str(error))
    for name, rule in _rules:
        if only is not None and name not in only:
            continue
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


def last_recorded_position() -> int:
    """The log's last committed position, read without its lock; 0 before anything was recorded.

    Read before the rules read: everything recorded at or before it, they see; an event after it
    is what `dated_rules_moved` looks for once the log's lock is held."""
    from ledger.models import LogPosition  # the models load after this module (settings import it early)

    last = LogPosition.objects.filter(id=1).values_list("last_position", flat=True).first()
    return last or 0


def dated_rules_moved(since: int, last_position: int) -> frozenset[str]:
    """The registered rules (by name) whose answer may have changed since the log's position `since`:
    those reading a model that an event recorded after it changes. Empty: every answer stands.

    Asked under the log's lock, `last_position` the last position it handed out: when nothing was
    recorded since, no query; else one, for the types of the events after `since` that a rule depends on."""
    if last_position <= since:
        return frozenset()
    reads = dated_rule_reads()
    unsaid = {name for name, types in reads.items() if types is None}
    depended_on = sorted(set().union(*(types for types in reads.values() if types)))
    recorded: set[str] = set()
    if depended_on:
        from ledger.models import Event

        recorded = set(Event.objects.filter(position__gt=since, event_type__in=depended_on)
                       .order_by().values_list("event_type", flat=True).distinct())
    return frozenset(unsaid | {name for name, types in reads.items() if types and types & recorded})


def dated_rule_reads() -> dict[str, frozenset[str] | None]:
    """Each registered rule's name, with the event types that change what it reads: those of every
    projection writing one of the read models it names. None when any event may: a rule that did not
    say what it reads, a read model no projection writes, or a projection fed every event type."""
    from ledger.projections import registry

    projections = list(registry)
    reads: dict[str, frozenset[str] | None] = {}
    for name, _ in _rules:
        models = _reads.get(name)
        reads[name] = None if models is None else _event_types_writing(set(models), projections)
    return reads


def _event_types_writing(models: set[type], projections: list) -> frozenset[str] | None:
    """The event types of the projections that write `models`; None if any event may change one."""
    types: set[str] = set()
    written: set[type] = set()
    for projection in projections:
        kept = set(projection.models) & models
        if not kept:
            continue
        if projection.event_types is None:
            return None
        types.update(projection.event_types)
        written |= kept
    if models - written:
        return None  # a model not kept from the log could change without an event
    return frozenset(types)


@dataclass(frozen=True, slots=True)
class CheckedFact:
    """A dated fact every rule passed, with the log's position read before they read (`as_of`) and how the
    writer refuses (`refused`, given the message): what a writer needs to ask the rules again under the lock."""

    fact: DatedFact
    as_of: int
    refused: Callable[[str], Exception] = BusinessDateError

    @property
    def on(self) -> date:
        return self.fact.on

    def still_holds(self, last_position: int) -> None:
        """The writer's `under_lock` (ledger.services.append): if an event changing what a rule reads was recorded
        since `as_of` (a trust formed, a loan removed from a pool, a period closed), those rules are asked again,
        and a refusal now raises `refused` with the message `dated_fact_check` gives: nothing is written."""
        moved = dated_rules_moved(self.as_of, last_position)
        if moved:
            problem = dated_facts_problems([self.fact], only=moved)[0]
            if problem:
                raise self.refused(problem)


def checked_fact(fact: DatedFact, *, refused: Callable[[str], Exception] = BusinessDateError) -> CheckedFact:
    """`dated_fact_check` for a writer without the log's lock: the fact checked now (a refusal raised as
    `refused`, with the same message), the log's position read first, so the answer can be asked again
    under the lock (`CheckedFact.still_holds`)."""
    as_of = last_recorded_position()  # before the rules read: what they saw is at or before it
    try:
        dated_fact_check(fact)
    except BusinessDateError as error:
        if refused is BusinessDateError:
            raise
        raise refused(str(error)) from None
    return CheckedFact(fact, as_of, refused)


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
