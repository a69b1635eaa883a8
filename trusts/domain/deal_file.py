"""Reading a deal file (JSON) into checked values; every inconsistency reported together.

Pure: a parsed JSON object in, (DealSpec or None, problems) out. Checks that
need the database (unknown or already pooled loans, faces against the pool's
cut-off balance) are the forming service's.

The deal's structure (trusts.domain.deal_structure) is read from optional keys: "waterfall"
(step names), "trustee_fee_rate", "triggers", "overcollateralization", "reserve_account",
"cleanup_call_percent", and on a class "kind", "schedule", "band", "notional_of", "lockout".
A file without them is the standard deal. Each value is read here (its form: text amounts and
percents, whole periods); whether the whole hangs together is `structure_problems`'s, whose
problems join the file's others. Declaring "overcollateralization" makes the deal
over-collateralised (`overcollateralized` true); an explicit "overcollateralized": false beside it
is refused as a contradiction.
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
from trusts.domain.deal_structure import (
    POOL, STANDARD, STANDARD_STRUCTURE, ClassFeatures, ClassOutline, DealStructure, LockoutStep, LossLimit,
    Overcollateralization, ReserveAccount, Triggers, structure_problems,
)
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
    "waterfall", "trustee_fee_rate", "triggers", "overcollateralization", "reserve_account", "cleanup_call_percent",
))
FEATURE_KEYS = frozenset(("kind", "schedule", "band", "notional_of", "lockout"))
CLASS_KEYS = frozenset(("name", "face", "coupon", "principal", "priority", "denomination", "cusip")) | FEATURE_KEYS
TRIGGER_KEYS = frozenset(("stepdown_period", "cumulative_loss", "delinquency_60_percent", "delinquency_90_percent",
                          "sticky"))
OC_KEYS = frozenset(("target_percent", "stepdown_target_percent", "floor_percent"))
RESERVE_KEYS = frozenset(("target", "initial_deposit"))
# A schedule's entries are each checked, but a long bad schedule is not copied out entry by entry.
SHOWN_ENTRIES = 3
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
    structure: DealStructure = STANDARD_STRUCTURE


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
    features: dict[str, ClassFeatures] = {}
    classes = _classes(data.get("classes"), problems, features)
    holders = _holders(data.get("holders", []), {c.name: c for c in classes}, problems)
    structure = _structure(data, features, problems)
    if "overcollateralization" in data:
        if data.get("overcollateralized", True) is False:
            problems.field("overcollateralized", "is false but the deal declares an overcollateralization target")
        overcollateralized = True
    if structure is not None:
        outlines = [ClassOutline(name=c.name, face_cents=c.face_cents, coupon=c.coupon, priority=c.priority)
                    for c in classes]
        problems.extend(structure_problems(structure, outlines))
    # A date is None only with its problem listed: the checks on None name no other case.
    if problems or closing is None or cutoff is None or first_payment is None or structure is None:
        return None, list(problems)
    return DealSpec(
        code=text["code"], name=text["name"], issuer=text["issuer"], servicer=text["servicer"],
        trustee=text["trustee"], closing_date=closing, cutoff_date=cutoff, first_payment_date=first_payment,
        payment_day=payment_day, issuer_spread_rate=spread, remittance_type=remittance_type,
        purchase_price_percent=price, residual_holder=text["residual_holder"], overcollateralized=overcollateralized,
        loans=loans, classes=classes, holders=holders, structure=structure,
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
        problems.field(where, f"{_shown(raw)} must be an amount in dollars as a string, like \"1000.00\", "
                              + ("above zero" if positive else "zero or more"))
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


def _classes(raw: object, problems: _Problems, features: dict[str, ClassFeatures]) -> tuple[ClassSpec, ...]:
    """The classes; each one's features (a class declaring any) go into `features` by its name."""
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
        if spec and isinstance(item, dict) and FEATURE_KEYS & item.keys():
            features[spec.name] = _features(item, f"class {spec.name}", problems)
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


# ---------------------------------------------------------------- the deal's structure


def _structure(data: dict[Any, Any], features: dict[str, ClassFeatures], problems: _Problems) -> DealStructure | None:
    """The structure the file declares (STANDARD_STRUCTURE's values where it is silent); None if a value is
    malformed (its problem listed)."""
    before = len(problems)
    steps = _steps(data.get("waterfall"), problems) if "waterfall" in data else STANDARD_STRUCTURE.steps
    fee = (_percent(data["trustee_fee_rate"], "trustee_fee_rate", problems) if "trustee_fee_rate" in data
           else Decimal(0))
    triggers = _triggers(data["triggers"], problems) if "triggers" in data else None
    oc = _overcollateralization(data["overcollateralization"], problems) if "overcollateralization" in data else None
    reserve = _reserve(data["reserve_account"], problems) if "reserve_account" in data else None
    call = (_number(data["cleanup_call_percent"], "cleanup_call_percent", problems)
            if "cleanup_call_percent" in data else None)
    if len(problems) > before:
        return None
    return DealStructure(steps=steps, trustee_fee_rate=fee, features=features, triggers=triggers,
                         overcollateralization=oc, reserve=reserve, cleanup_call_percent=call)


def _steps(raw: object, problems: _Problems) -> tuple[str, ...]:
    # Unknown, repeated or missing steps are structure_problems' to name; here only the form.
    if not isinstance(raw, list) or not raw or not all(isinstance(step, str) for step in raw):
        problems.field("waterfall", "must be a non-empty list of step names")
        return ()
    return tuple(raw)


def _number(raw: Any, where: str, problems: _Problems) -> Decimal:
    """A decimal number written as text (or an integer), floats refused; its range is structure_problems'."""
    try:
        return decimal_from_text(raw, places=PERCENT_PLACES)
    except TooManyDecimals:
        problems.field(where, f"{_shown(raw)} has more than {PERCENT_PLACES} decimals")
    except NumberFormatError:
        problems.field(where, f"{_shown(raw)} must be a number written as a string, like \"1.25\", zero or more")
    return Decimal(0)


def _period(raw: Any, where: str, problems: _Problems) -> int:
    if type(raw) is not int:
        problems.field(where, f"{_shown(raw)} must be a whole number of periods")
        return 0
    return raw


def _object(raw: Any, known: frozenset[str], where: str, problems: _Problems) -> dict[Any, Any] | None:
    if not isinstance(raw, dict):
        problems.field(where, "must be a JSON object")
        return None
    _unknown_keys(raw, known, where, problems)
    return raw


def _features(item: dict[Any, Any], where: str, problems: _Problems) -> ClassFeatures:
    kind = item.get("kind", STANDARD)
    if not isinstance(kind, str):
        problems.field(where, f"kind {_shown(kind)} must be text")
        kind = STANDARD
    return ClassFeatures(
        kind=kind, schedule=_schedule(item["schedule"], where, problems) if "schedule" in item else (),
        band=_band(item["band"], where, problems) if "band" in item else None,
        notional_of=_notional(item["notional_of"], where, problems) if "notional_of" in item else (),
        lockout=_lockout(item["lockout"], where, problems) if "lockout" in item else (),
    )


def _schedule(raw: Any, where: str, problems: _Problems) -> tuple[int, ...]:
    if not isinstance(raw, list) or not raw:
        problems.field(where, "schedule must be a non-empty list of balances in dollars, like \"243800000.00\"")
        return ()
    entries = _Problems()
    balances = tuple(_money(b, f"{where} schedule[{i}]", entries, positive=False) for i, b in enumerate(raw))
    problems.extend(entries[:SHOWN_ENTRIES])
    if len(entries) > SHOWN_ENTRIES:
        problems.field(where, f"schedule: {len(entries) - SHOWN_ENTRIES} more entries are not amounts")
    return balances


def _band(raw: Any, where: str, problems: _Problems) -> tuple[Decimal, Decimal] | None:
    if not isinstance(raw, list) or len(raw) != 2:
        problems.field(where, "band must be [lower PSA, upper PSA], like [\"90\", \"300\"]")
        return None
    lower, upper = (_number(v, f"{where} band", problems) for v in raw)
    return lower, upper


def _notional(raw: Any, where: str, problems: _Problems) -> tuple[str, ...]:
    if raw == POOL:
        return (POOL,)
    if not isinstance(raw, list) or not raw or not all(isinstance(n, str) for n in raw):
        problems.field(where, f"notional_of must be a list of class names or \"{POOL}\"")
        return ()
    return tuple(raw)


def _lockout(raw: Any, where: str, problems: _Problems) -> tuple[LockoutStep, ...]:
    if not isinstance(raw, list) or not raw:
        problems.field(where, "lockout must be a non-empty list of {\"through_period\", \"percent\"}")
        return ()
    steps = []
    for i, item in enumerate(raw):
        step = _object(item, frozenset(("through_period", "percent")), f"{where} lockout[{i}]", problems)
        if step is not None:
            steps.append(LockoutStep(through_period=_period(step.get("through_period"), f"{where} lockout[{i}] "
                                                                                           "through_period", problems),
                                     percent=_number(step.get("percent"), f"{where} lockout[{i}] percent", problems)))
    return tuple(steps)


def _triggers(raw: Any, problems: _Problems) -> Triggers | None:
    data = _object(raw, TRIGGER_KEYS, "triggers", problems)
    if data is None:
        return None
    limits = data.get("cumulative_loss", [])
    if not isinstance(limits, list):
        problems.field("triggers", "cumulative_loss must be a list of {\"from_period\", \"percent\"}")
        limits = []
    losses = []
    for i, item in enumerate(limits):
        where = f"triggers cumulative_loss[{i}]"
        step = _object(item, frozenset(("from_period", "percent")), where, problems)
        if step is not None:
            losses.append(LossLimit(from_period=_period(step.get("from_period"), f"{where} from_period", problems),
                                    percent=_number(step.get("percent"), f"{where} percent", problems)))
    d60, d90 = (_number(data[k], f"triggers {k}", problems) if k in data else None
                for k in ("delinquency_60_percent", "delinquency_90_percent"))
    return Triggers(stepdown_period=_period(data.get("stepdown_period"), "triggers stepdown_period", problems),
                    cumulative_loss=tuple(losses), delinquency_60_percent=d60, delinquency_90_percent=d90,
                    sticky=_flag({"triggers sticky": data.get("sticky", True)}, "triggers sticky", problems))


def _overcollateralization(raw: Any, problems: _Problems) -> Overcollateralization | None:
    data = _object(raw, OC_KEYS, "overcollateralization", problems)
    if data is None:
        return None
    target = _number(data.get("target_percent"), "overcollateralization target_percent", problems)
    # Without a step-down target the target holds for the whole deal.
    stepdown = (_number(data["stepdown_target_percent"], "overcollateralization stepdown_target_percent", problems)
                if "stepdown_target_percent" in data else target)
    floor = (_number(data["floor_percent"], "overcollateralization floor_percent", problems)
             if "floor_percent" in data else Decimal(0))
    return Overcollateralization(target_percent=target, stepdown_target_percent=stepdown, floor_percent=floor)


def _reserve(raw: Any, problems: _Problems) -> ReserveAccount | None:
    data = _object(raw, RESERVE_KEYS, "reserve_account", problems)
    if data is None:
        return None
    return ReserveAccount(target_cents=_money(data.get("target"), "reserve_account target", problems),
                          initial_deposit_cents=_money(data.get("initial_deposit", "0.00"),
                                                       "reserve_account initial_deposit", problems, positive=False))
