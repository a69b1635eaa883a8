"""The project_cashflows command's options, read and checked, and the deal they describe.

Pure: option values in (strings, as typed), a `Request` out, or a
`ScenarioError` naming the option and what is wrong with it. Every check a
user can fail is here, so the command stays a thin shell.

Rates and speeds are percentages written as decimals ("6.5"); a speed may be
a month-by-month vector, comma-separated ("100,150,200": the last holds).
Amounts are dollars with at most two decimals.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from analytics.domain.collateral import Repline
from analytics.domain.defaults import NO_DEFAULTS, DefaultKind, DefaultScenario, default_scenario
from analytics.domain.prepayment import PrepaymentKind, PrepaymentScenario, vector
from analytics.domain.deal_projection import Deal, Pricing
from analytics.domain.structure import Structure
from ledger.domain.money import MoneyFormatError, cents_from_dollars, dollars_grouped
from remittance.domain.waterfall import ClassState

# Typed as their kinds, so the one option given is the scenario's kind as it stands.
PREPAYMENT_OPTIONS: tuple[PrepaymentKind, ...] = ("psa", "cpr", "smm")
DEFAULT_OPTIONS: tuple[DefaultKind, ...] = ("cdr", "mdr", "sda")
# The command's options (--gross-rate, --net-rate: its published flags), read into PoolTerms' gross and net WAC.
POOL_OPTIONS = ("balance", "gross_rate", "net_rate", "term", "age")
FORMATS = ("json", "csv", "table")
PASS_THROUGH = "PT"  # a class kind's code, not a password # nosec B105
POOL = "POOL"
MAX_RATE, MAX_TERM = Decimal(30), 480
_CLASS_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")


class ScenarioError(ValueError):
    """The options do not describe a projection; the message says which and why."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolTerms:
    """A pool given on the command line: its balance, gross and net WAC (annual percents), term and age (months).

    The gross WAC is the loans' weighted average note rate; the net WAC is what the investors earn, the
    gross less the servicing fee.
    """

    balance_cents: int
    gross_wac: Decimal
    net_wac: Decimal
    term: int
    age: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ScenarioClass:
    """A class of the scenario, given on the command line (`--class NAME:FACE:COUPON`): its name, face and coupon."""

    name: str
    face_cents: int
    coupon: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    """What to project (a pool and classes, or a trust) under which scenario, and how to show it."""

    pool: PoolTerms | None
    classes: tuple[ScenarioClass, ...]
    trust_code: str | None
    prepayment: PrepaymentScenario
    defaults: DefaultScenario
    pricing: Pricing
    output_format: str


def parse_request(options: Mapping[str, object]) -> Request:
    """Read the command's options (None where not given) into a Request, or raise ScenarioError."""
    trust = options.get("trust")
    class_texts = _texts(options.get("classes"))
    pool: PoolTerms | None
    classes: tuple[ScenarioClass, ...]
    if trust:
        _refuse_with_trust(options, class_texts)
        pool, classes = None, ()
    else:
        pool = parse_pool(options)
        classes = parse_classes(class_texts, pool_cents=pool.balance_cents)
    return Request(
        pool=pool, classes=classes, trust_code=str(trust) if trust else None,
        prepayment=parse_prepayment(options), defaults=parse_defaults(options),
        pricing=parse_pricing(options), output_format=_format(options.get("format")),
    )


# ------------------------------------------------------------------ pool


def parse_pool(options: Mapping[str, object]) -> PoolTerms:
    missing = [o for o in ("balance", "gross_rate", "net_rate", "term") if not _present(options.get(o))]
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        raise ScenarioError(f"{_flags(missing)} {verb} required (or --trust CODE to project a trust)")
    gross, net = _rate("gross_rate", options["gross_rate"]), _rate("net_rate", options["net_rate"])
    if net > gross:
        raise ScenarioError(f"--net-rate {net} is above --gross-rate {gross}: the fee would be negative")
    term = _whole("term", options["term"], low=1, high=MAX_TERM)
    age = _whole("age", options.get("age") or "0", low=0, high=MAX_TERM)
    if age >= term:
        raise ScenarioError(f"--age {age} must be less than --term {term}: the loans would be paid off")
    return PoolTerms(balance_cents=_dollars("balance", options["balance"]), gross_wac=gross, net_wac=net,
                     term=term, age=age)


def parse_classes(texts: Sequence[str], *, pool_cents: int) -> tuple[ScenarioClass, ...]:
    """Sequential classes in the order given; their faces may not add up to more than the pool."""
    classes = tuple(_class(text) for text in texts)
    names = [c.name for c in classes]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ScenarioError(f"--class: each class name once, but {', '.join(duplicates)} is given twice")
    total = sum(c.face_cents for c in classes)
    if total > pool_cents:
        raise ScenarioError(f"--class faces add up to {dollars_grouped(total)}, more than the pool's "
                            f"{dollars_grouped(pool_cents)}")
    return classes


def _class(text: str) -> ScenarioClass:
    parts = str(text).split(":")
    if len(parts) != 3 or not _CLASS_NAME.fullmatch(parts[0]):
        raise ScenarioError(f"--class {text!r} is not NAME:FACE_DOLLARS:COUPON_PCT (e.g. A1:600000:5.5)")
    name, face, coupon = parts
    return ScenarioClass(name=name, face_cents=_dollars(f"class {name} face", face, flag=False),
                     coupon=_rate(f"class {name} coupon", coupon, flag=False))


def _refuse_with_trust(options: Mapping[str, object], class_texts: list[str]) -> None:
    given = _given(options, POOL_OPTIONS) + (["class"] if class_texts else [])
    if given:
        raise ScenarioError(f"--trust takes the pool and classes from the trust; drop {_flags(given)}")


# ------------------------------------------------------------- scenario


def parse_prepayment(options: Mapping[str, object]) -> PrepaymentScenario:
    given = _given(options, PREPAYMENT_OPTIONS)
    if len(given) != 1:
        raise ScenarioError("give one prepayment speed: --psa N, --cpr PCT or --smm PCT"
                            + (f" (not {_flags(given)} together)" if given else ""))
    kind = given[0]
    rates = _speeds(kind, options[kind])
    if kind != "psa" and any(r > 100 for r in rates):
        raise ScenarioError(f"--{kind} {options[kind]}: a rate cannot exceed 100%")
    return vector(kind, rates)


# A grid (the API's projections, the admin's scenario page) bounds the work of one request.
MAX_GRID_SPEEDS, MAX_GRID_PSA = 10, 5000
_FLAG = re.compile(r"--([a-z][a-z-]*)")


def parse_psa_grid(text: str) -> tuple[PrepaymentScenario, ...]:
    """Comma-separated PSA speeds, one constant-speed scenario each, as parse_prepayment reads each."""
    parts = [part.strip() for part in text.split(",")]
    if len(parts) > MAX_GRID_SPEEDS:
        raise ScenarioError(f"--psa: at most {MAX_GRID_SPEEDS} speeds at once, not {len(parts)}")
    scenarios = []
    for part in parts:
        if not part:
            raise ScenarioError(f"--psa {text!r}: a speed is missing; write numbers separated by commas")
        scenario = parse_prepayment({"psa": part})
        if scenario.rates[0] > MAX_GRID_PSA:
            raise ScenarioError(f"--psa {part}: at most {MAX_GRID_PSA}")
        scenarios.append(scenario)
    return tuple(scenarios)


def refused_options(error: ScenarioError) -> list[str]:
    """The options a refusal names ("--delay-days" is delay_days), for forms that show it on their fields."""
    return [flag.replace("-", "_") for flag in _FLAG.findall(str(error))]


def refusal_text(error: ScenarioError) -> str:
    """The refusal with option names instead of the command's flags, for forms and query strings."""
    return _FLAG.sub(lambda m: m.group(1).replace("-", "_"), str(error))


def parse_defaults(options: Mapping[str, object]) -> DefaultScenario:
    given, terms = _given(options, DEFAULT_OPTIONS), _given(options, ("severity", "lag"))
    if not given:
        if terms:
            verb = "needs" if len(terms) == 1 else "need"
            raise ScenarioError(f"{_flags(terms)} {verb} a default rate: --cdr, --mdr or --sda")
        return NO_DEFAULTS
    if len(given) > 1:
        raise ScenarioError(f"give at most one default rate, not {_flags(given)} together")
    kind = given[0]
    missing = [o for o in ("severity", "lag") if o not in terms]
    if missing:
        raise ScenarioError(f"--{kind} needs {_flags(missing)} (loss severity and months to liquidation)")
    rates = _speeds(kind, options[kind])
    if kind != "sda" and any(r > 100 for r in rates):
        raise ScenarioError(f"--{kind} {options[kind]}: a rate cannot exceed 100%")
    severity = _number("severity", options["severity"])
    if not 0 <= severity <= 100:
        raise ScenarioError(f"--severity {options['severity']}: a loss severity is between 0 and 100 percent")
    lag = _whole("lag", options["lag"], low=0, high=MAX_TERM)
    advance = options.get("advance")
    return default_scenario(kind, rates, severity=float(severity), lag=lag,
                            advance=True if advance is None else bool(advance))


def parse_pricing(options: Mapping[str, object]) -> Pricing:
    price, yielded = options.get("price"), options.get("yield_percent")
    if _present(price) and _present(yielded):
        raise ScenarioError("give --price or --yield, not both")
    delay = _whole("delay_days", options.get("delay_days") or "0", low=0, high=365)
    if _present(price):
        value = _number("price", price)
        if value <= 0:
            raise ScenarioError(f"--price {price}: a price must be above zero (percent of face)")
        return Pricing(delay_days=delay, price=float(value))
    if _present(yielded):
        value = _number("yield", yielded)
        if value <= -100:
            raise ScenarioError(f"--yield {yielded}: a yield must be above -100%")
        return Pricing(delay_days=delay, yield_percent=float(value))
    return Pricing(delay_days=delay)


# ------------------------------------------------------------------ deal


def pool_deal(pool: PoolTerms, classes: Sequence[ScenarioClass]) -> Deal:
    """The deal the pool options describe: one repline, and the classes (or one pass-through class PT).

    Sequential classes are paid in the order given, each with a priority of
    its own. With no class, PT's face is the pool and it is net WAC: it takes
    all interest left after the fee, which is the net rate on the pool.
    """
    repline = Repline(name=POOL, balance=pool.balance_cents / 100, gross_wac=pool.gross_wac,
                      net_wac=pool.net_wac, term=pool.term, age=pool.age)
    if classes:
        states = tuple(ClassState(name=c.name, balance_cents=c.face_cents, coupon=c.coupon,
                                  principal_rule="sequential", priority=k)
                       for k, c in enumerate(classes, start=1))
    else:
        states = (ClassState(name=PASS_THROUGH, balance_cents=pool.balance_cents, coupon=None),)
    structure = Structure(
        classes=states, original_faces={s.name: max(s.balance_cents, 1) for s in states},
        fee_rates={POOL: pool.gross_wac - pool.net_wac}, note_rates={POOL: pool.gross_wac},
    )
    return Deal(replines=(repline,), structure=structure)


# --------------------------------------------------------------- reading


def _present(value: object) -> bool:
    return value not in (None, "")


_Name = TypeVar("_Name", bound=str)


def _given(options: Mapping[str, object], names: Sequence[_Name]) -> list[_Name]:
    """The names given a value, of the type they come as (a speed option's name is its kind)."""
    return [name for name in names if _present(options.get(name))]


def _texts(value: object) -> list[str]:
    """A repeated option's texts (`--class` once per class), none when it is not given."""
    if not value:
        return []
    if not isinstance(value, Iterable):
        raise TypeError(f"a repeated option is a list of texts, not {value!r}")
    return [str(text) for text in value]


def _flags(names: Sequence[str]) -> str:
    """Option names as typed: "--balance", "--severity and --lag"."""
    flags = [f"--{n.replace('_', '-')}" for n in names]
    return flags[0] if len(flags) == 1 else ", ".join(flags[:-1]) + " and " + flags[-1]


def _number(option: str, text: object) -> Decimal:
    try:
        value = Decimal(str(text).strip())
    except (InvalidOperation, ValueError):
        raise ScenarioError(f"--{option.replace('_', '-')} {text!r} is not a number") from None
    if not value.is_finite():
        raise ScenarioError(f"--{option.replace('_', '-')} {text!r} is not a number")
    return value


def _speeds(option: str, text: object) -> list[float]:
    values = [_number(option, part) for part in str(text).split(",")]
    negative = [v for v in values if v < 0]
    if negative:
        raise ScenarioError(f"--{option} {text}: speeds cannot be negative")
    return [float(v) for v in values]


def _rate(option: str, text: object, *, flag: bool = True) -> Decimal:
    label = f"--{option.replace('_', '-')}" if flag else option
    try:
        value = Decimal(str(text).strip())
    except (InvalidOperation, ValueError):
        raise ScenarioError(f"{label} {text!r} is not a percentage") from None
    if not value.is_finite() or not 0 <= value <= MAX_RATE:
        raise ScenarioError(f"{label} {text!r}: a rate is between 0 and {MAX_RATE} percent")
    return value


def _whole(option: str, text: object, *, low: int, high: int) -> int:
    label = f"--{option.replace('_', '-')}"
    try:
        value = int(str(text).strip())
    except ValueError:
        raise ScenarioError(f"{label} {text!r} is not a whole number") from None
    if not low <= value <= high:
        raise ScenarioError(f"{label} {value}: must be between {low} and {high}")
    return value


def _dollars(option: str, text: object, *, flag: bool = True) -> int:
    label = f"--{option.replace('_', '-')}" if flag else option
    try:
        cents = cents_from_dollars(str(text))
    except MoneyFormatError as error:
        raise ScenarioError(f"{label}: {error}") from None
    if cents <= 0:
        raise ScenarioError(f"{label} {text}: must be more than zero")
    return cents


def _format(text: object) -> str:
    value = str(text or "table")
    if value not in FORMATS:
        raise ScenarioError(f"--format {value!r}: choose json, csv or table")
    return value
