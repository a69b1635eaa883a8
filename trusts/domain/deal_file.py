"""Reading a deal file (JSON) into checked values; every inconsistency reported together.

Pure: a parsed JSON object in, (DealSpec or None, problems) out. Checks that
need the database (unknown or already pooled loans, faces against the pool's
cut-off balance) are the forming service's.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from ledger.domain.money import MoneyFormatError, NumberFormatError, TooManyDecimals, cents_from_dollars, decimal_from_text
from servicing.domain.csv_files import LOAN_NUMBER, free_text_problem
from trusts.domain.cusip import cusip_problem
from trusts.domain.principal_rules import PRINCIPAL_RULES, PRO_RATA, priorities_shared_by_sequential

CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}$")
REMITTANCE_TYPES = ("actual/actual", "scheduled/scheduled")
NET_WAC = "net-wac"
# The tape's range: a trust's periods are dated from these, and date arithmetic past 9999 overflows.
EARLIEST, LATEST = date(1970, 1, 1), date(2100, 12, 31)
# The README's keys: a misspelt optional key ("payment_dya") would otherwise take its default silently.
DEAL_KEYS = frozenset((
    "code", "name", "issuer", "servicer", "trustee", "closing_date", "cutoff_date", "first_payment_date",
    "payment_day", "issuer_spread_rate", "remittance_type", "purchase_price_percent", "residual_holder",
    "overcollateralized", "loans", "classes", "holders",
))
CLASS_KEYS = frozenset(("name", "face", "coupon", "principal", "priority", "denomination", "cusip"))
HOLDER_KEYS = frozenset(("code", "name", "class", "face"))
# trusts.models keeps issuer_spread_rate, purchase_price_percent and coupon with 4 decimal places: a
# value with more would be rounded by the row while the deal's event kept it exact.
PERCENT_PLACES = 4
# A class's id is its trust's id times 1000 plus its place in the deal (trusts.projections.class_id).
MAX_CLASSES = 999


@dataclass(frozen=True, slots=True)
class ClassSpec:
    name: str
    face_cents: int
    coupon: Decimal | None  # None: net-wac, all interest left after fee and spread
    principal_rule: str
    priority: int
    denomination_cents: int
    cusip: str | None = None  # optional; checked by its check digit (trusts.domain.cusip)


@dataclass(frozen=True, slots=True)
class HoldingSpec:
    holder_code: str
    holder_name: str
    class_name: str
    face_cents: int


@dataclass(frozen=True, slots=True)
class DealSpec:
    code: str
    name: str
    issuer: str
    servicer: str
    trustee: str
    closing_date: date
    cutoff_date: date
    first_payment_date: date
    payment_day: int
    issuer_spread_rate: Decimal
    remittance_type: str
    purchase_price_percent: Decimal
    residual_holder: str
    overcollateralized: bool
    loans: tuple[str, ...]
    classes: tuple[ClassSpec, ...]
    holders: tuple[HoldingSpec, ...]


class _Problems(list[str]):
    def field(self, where: str, message: str) -> None:
        self.append(f"{where}: {message}")


def parse_deal(data: Any) -> tuple[DealSpec | None, list[str]]:
    problems = _Problems()
    if not isinstance(data, dict):
        return None, ["the deal file must be a JSON object"]
    _unknown_keys(data, DEAL_KEYS, "deal", problems)
    text = {k: _text(data, k, problems) for k in ("code", "name", "issuer", "servicer", "trustee", "residual_holder")}
    if text["code"] and not CODE.match(text["code"]):
        problems.field("code", f"{text['code']!r} must be 1-40 letters, digits, '-', '_' or '.'")
    closing, cutoff, first_payment = (_date(data, k, problems) for k in ("closing_date", "cutoff_date", "first_payment_date"))
    if closing and cutoff and first_payment and not cutoff <= closing < first_payment:
        problems.append("dates: the cut-off must not follow the closing, which must precede the first payment")
    payment_day = data.get("payment_day", 25)
    if type(payment_day) is not int or not 1 <= payment_day <= 31:
        problems.field("payment_day", f"{_shown(payment_day)} must be a day of the month, 1 to 31")
    spread = _percent(data.get("issuer_spread_rate"), "issuer_spread_rate", problems)
    price = _percent(data.get("purchase_price_percent", "100"), "purchase_price_percent", problems, upper=Decimal(200))
    remittance_type = data.get("remittance_type", "actual/actual")
    if remittance_type not in REMITTANCE_TYPES:
        problems.field("remittance_type", f"{_shown(remittance_type)} must be one of {', '.join(REMITTANCE_TYPES)}")
    overcollateralized = _flag(data, "overcollateralized", problems)
    loans = _loans(data.get("loans"), problems)
    classes = _classes(data.get("classes"), problems)
    holders = _holders(data.get("holders", []), {c.name: c for c in classes}, problems)
    # A date is None only with its problem listed: the checks on None name no other case.
    if problems or closing is None or cutoff is None or first_payment is None:
        return None, list(problems)
    return DealSpec(
        code=text["code"], name=text["name"], issuer=text["issuer"], servicer=text["servicer"],
        trustee=text["trustee"], closing_date=closing, cutoff_date=cutoff, first_payment_date=first_payment,
        payment_day=payment_day, issuer_spread_rate=spread, remittance_type=remittance_type,
        purchase_price_percent=price, residual_holder=text["residual_holder"], overcollateralized=overcollateralized,
        loans=loans, classes=classes, holders=holders,
    ), []


def _unknown_keys(item: dict[Any, Any], known: frozenset[str], where: str, problems: _Problems) -> None:
    unknown = [k for k in item if k not in known]
    if unknown:
        listed = ", ".join(_shown(k) for k in unknown[:10]) + (f" and {len(unknown) - 10} more" if len(unknown) > 10 else "")
        problems.field(where, f"unknown keys {listed}")


def _text(data: dict[Any, Any], key: str, problems: _Problems) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        problems.field(key, "is required (text, at most 200 characters)")
        return ""
    problem = free_text_problem(key, value.strip())
    if problem:
        problems.field(key, problem.removeprefix(f"{key} "))
        return ""
    return value.strip()


def _date(data: dict[Any, Any], key: str, problems: _Problems) -> date | None:
    # Any JSON value: fromisoformat's TypeError names the ones that are not text.
    raw: Any = data.get(key)
    try:
        value = date.fromisoformat(raw)
    except (TypeError, ValueError):
        problems.field(key, f"{_shown(raw)} is not an ISO date (YYYY-MM-DD)")
        return None
    if not EARLIEST <= value <= LATEST:
        problems.field(key, f"{value.isoformat()} is out of range ({EARLIEST.isoformat()} to {LATEST.isoformat()})")
        return None
    return value


def _shown(value: object) -> str:
    """A value as a problem quotes it, cut short: a file's 200,000-character string is not copied out."""
    shown = repr(value)
    return shown if len(shown) <= 60 else f"{shown[:40]}..."


def _flag(data: dict[Any, Any], key: str, problems: _Problems) -> bool:
    """A JSON true or false (absent: false). The string "false" is refused: bool("false") is True."""
    value = data.get(key, False)
    if not isinstance(value, bool):
        problems.field(key, f"{_shown(value)} must be JSON true or false (without quotes)")
        return False
    return value


def _percent(raw: Any, where: str, problems: _Problems, upper: Decimal = Decimal(30)) -> Decimal:
    """A percentage given as a string (or an integer); floats are refused as for money, and so are more
    decimals than the column keeps (PERCENT_PLACES), rather than rounded."""
    try:
        value = decimal_from_text(raw, places=PERCENT_PLACES)
    except TooManyDecimals:
        problems.field(where, f"{_shown(raw)} has more than {PERCENT_PLACES} decimals; {where} is kept with "
                              f"{PERCENT_PLACES}, and the value is refused rather than rounded")
        return Decimal(0)
    except NumberFormatError:
        value = None
    if value is None or not 0 <= value <= upper:
        problems.field(where, f"{_shown(raw)} must be a percentage (a string like \"0.6\") from 0 to {upper}")
        return Decimal(0)
    return value


def _money(raw: object, where: str, problems: _Problems, *, positive: bool = True) -> int:
    try:
        cents = cents_from_dollars(raw) if isinstance(raw, str) else None
    except MoneyFormatError as error:
        problems.field(where, str(error))
        return 0
    if cents is None or (positive and cents == 0):
        problems.field(where, f"{_shown(raw)} must be an amount in dollars as a string, like \"1000.00\", above zero")
        return 0
    return cents


def _loans(raw: object, problems: _Problems) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw or not all(isinstance(n, str) for n in raw):
        problems.field("loans", "must be a non-empty list of loan numbers")
        return ()
    seen: set[str] = set()
    for i, number in enumerate(raw):
        # The tape's format: a NUL or a lone surrogate here would fail in the database, not here.
        if not LOAN_NUMBER.match(number):
            problems.field(f"loans[{i}]", f"{_shown(number)} is not a loan number (1-40 letters, digits, '-', '_' or '.')")
        elif number in seen:
            problems.field("loans", f"loan {number} is listed twice")
        seen.add(number)
    return tuple(raw)


def _classes(raw: object, problems: _Problems) -> tuple[ClassSpec, ...]:
    if not isinstance(raw, list) or not raw:
        problems.field("classes", "must be a non-empty list")
        return ()
    if len(raw) > MAX_CLASSES:
        problems.field("classes", f"{len(raw)} classes; a deal has at most {MAX_CLASSES}")
        return ()
    classes: list[ClassSpec] = []
    for i, item in enumerate(raw):
        if isinstance(item, dict):
            _unknown_keys(item, CLASS_KEYS, f"classes[{i}]", problems)
        spec = _class(item if isinstance(item, dict) else {}, f"classes[{i}]", problems)
        if spec:
            if any(c.name == spec.name for c in classes):
                problems.field(f"classes[{i}]", f"class {spec.name} is defined twice")
            if spec.cusip and any(c.cusip == spec.cusip for c in classes):
                problems.field(f"class {spec.name}", f"cusip {spec.cusip} is already class "
                                                     f"{next(c.name for c in classes if c.cusip == spec.cusip)}'s")
            classes.append(spec)
    for priority in priorities_shared_by_sequential((c.priority, c.principal_rule) for c in classes):
        problems.field("classes", f"sequential classes need their own priority; {priority} is shared")
    return tuple(classes)


def _class(item: dict[Any, Any], where: str, problems: _Problems) -> ClassSpec | None:
    name = item.get("name")
    if not isinstance(name, str) or not CODE.match(name or ""):
        problems.field(where, "name is required (letters, digits, '-', '_' or '.')")
        return None
    where = f"class {name}"
    face = _money(item.get("face"), f"{where} face", problems)
    denomination = _money(item.get("denomination", "1000.00"), f"{where} denomination", problems)
    coupon_raw = item.get("coupon")
    coupon = None if coupon_raw == NET_WAC else _percent(coupon_raw, f"{where} coupon", problems)
    rule = item.get("principal", PRO_RATA)
    if rule not in PRINCIPAL_RULES:
        problems.field(where, f"principal {_shown(rule)} must be {' or '.join(PRINCIPAL_RULES)}")
    priority = item.get("priority", 1)
    if type(priority) is not int or priority < 1:
        problems.field(where, f"priority {_shown(priority)} must be a whole number from 1 (paid first)")
        priority = 1
    if face and denomination and face % denomination:
        problems.field(where, f"face {item.get('face')} is not a whole number of {item.get('denomination', '1000.00')} bonds")
    cusip = item.get("cusip")
    problem = None if cusip is None else cusip_problem(cusip)
    if problem:
        problems.field(where, f"cusip {problem}")
    return ClassSpec(name, face, coupon, rule, priority, denomination, cusip if isinstance(cusip, str) else None)


def _holders(raw: object, classes: dict[str, ClassSpec], problems: _Problems) -> tuple[HoldingSpec, ...]:
    if not isinstance(raw, list):
        problems.field("holders", "must be a list")
        return ()
    holdings: list[HoldingSpec] = []
    held: defaultdict[str, int] = defaultdict(int)
    for i, item in enumerate(raw):
        item = item if isinstance(item, dict) else {}
        _unknown_keys(item, HOLDER_KEYS, f"holders[{i}]", problems)
        code, name, class_name = item.get("code"), item.get("name") or item.get("code"), item.get("class")
        where = f"holders[{i}] {code}"
        if not isinstance(code, str) or not CODE.match(code):
            problems.field(f"holders[{i}]", "code is required (letters, digits, '-', '_' or '.')")
            continue
        name_problem = free_text_problem("name", name) if isinstance(name, str) else "name must be text"
        if name_problem:
            problems.field(where, name_problem)
        face = _money(item.get("face"), f"{where} face", problems)
        security = classes.get(class_name) if isinstance(class_name, str) else None
        if security is None:
            problems.field(where, f"class {_shown(class_name)} is not a class of this deal")
            continue
        # A refused denomination is kept as 0 so the other problems are still found.
        if face and security.denomination_cents and face % security.denomination_cents:
            problems.field(where, f"face {item.get('face')} is not a multiple of class {class_name}'s denomination")
        # The class found by its name: security.name is class_name, typed as the text it is.
        held[security.name] += face
        holdings.append(HoldingSpec(code, str(name)[:200], security.name, face))
    for class_name, total in held.items():
        if total > classes[class_name].face_cents:
            problems.field(f"class {class_name}", "holdings add up to more than its face")
    return tuple(holdings)
