"""A deal's structure beyond faces and coupons: the waterfall's declared steps, each class's kind, the
triggers, over-collateralisation, the reserve account, the clean-up call and the trustee fee (pure).

The one declaration of that vocabulary. The deal file (trusts.domain.deal_file) reads a deal's
structure into these values and refuses one that breaks `structure_problems`; TrustFormed (v3)
records it; the waterfall (remittance.domain.waterfall) runs it, in the close and in projections
alike. A deal file that declares none of it is the standard deal (`STANDARD_STRUCTURE`), the one
every trust formed before had.

Steps, by name, in the order the deal declares (each once):
- "trustee_fee": the trustee's fee, the pool's balance at the period's start x trustee_fee_rate / 12
  (with any shortfall carried in), from interest;
- "servicing_fee", "spread": the servicer's fee and the issuer's spread, from interest;
- "interest": class interest by priority (fixed coupons, then net WAC). An IO class is owed interest
  on its notional balance; an accrual (Z) class, while any class ahead of it has a balance at the
  period's start, is owed nothing in cash: its interest is added to its balance and the cash joins
  principal, paid to the classes ahead of it;
- "reserve_draw": the reserve account pays the class interest still unpaid, by priority;
- "principal": the principal distribution amount to the classes (see `PRINCIPAL` below);
- "losses": realized losses written down from the most junior class up; in an over-collateralised
  deal only what the over-collateralisation cannot absorb;
- "turbo": interest left paid as principal until the over-collateralisation reaches its target;
- "reserve_deposit": interest left paid into the reserve account up to its target;
- "excess": whatever is left, to the residual holder. Always last.

PRINCIPAL, in order: a PAC class is paid up to its scheduled balance for the period (catching up
on any earlier shortfall); a NAS class up to its lockout share; then the classes by the deal's
principal rule (each priority group paid to zero before the next; inside a group pro rata; after
the step-down period, with every trigger passing, pro rata across all classes instead); what is left
goes to the PAC and NAS classes beyond their schedules (a "busted" PAC, once its support is gone).
IO classes are never paid principal nor written down.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

# ------------------------------------------------------------------ steps

TRUSTEE_FEE, SERVICING_FEE, SPREAD = "trustee_fee", "servicing_fee", "spread"
INTEREST, RESERVE_DRAW, PRINCIPAL, LOSSES = "interest", "reserve_draw", "principal", "losses"
TURBO, RESERVE_DEPOSIT, EXCESS = "turbo", "reserve_deposit", "excess"
STEP_NAMES: tuple[str, ...] = (
    TRUSTEE_FEE, SERVICING_FEE, SPREAD, INTEREST, RESERVE_DRAW, PRINCIPAL, LOSSES, TURBO, RESERVE_DEPOSIT, EXCESS,
)
FEE_STEPS = (TRUSTEE_FEE, SERVICING_FEE, SPREAD)
REQUIRED_STEPS = (SERVICING_FEE, SPREAD, INTEREST, PRINCIPAL, LOSSES, EXCESS)
STANDARD_STEP_NAMES: tuple[str, ...] = (SERVICING_FEE, SPREAD, INTEREST, PRINCIPAL, LOSSES, EXCESS)

# ------------------------------------------------------------- class kinds

STANDARD, PAC, SUPPORT, ACCRUAL, IO, PO, NAS = "standard", "pac", "support", "accrual", "io", "po", "nas"
CLASS_KINDS: tuple[str, ...] = (STANDARD, PAC, SUPPORT, ACCRUAL, IO, PO, NAS)
POOL = "pool"  # an IO's notional may follow the pool's balance instead of classes'
MAX_SHIFT_PERCENT = Decimal(300)  # a NAS class's lockout share may accelerate to 300% late in the deal


@dataclass(frozen=True, slots=True, kw_only=True)
class LockoutStep:
    """A NAS class's share of its pro-rata principal (percent) for the periods through `through_period`."""

    through_period: int
    percent: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class ClassFeatures:
    """What a class is beyond its face, coupon and priority.

    schedule: a PAC's scheduled balance (cents) at the end of periods 1, 2, ...; after the last
    entry it is scheduled at 0. band: the PSA speeds (lower, upper) the schedule was built from,
    for reports and the band test. notional_of: an IO's notional, the sum of these classes'
    balances (or the pool's, POOL). lockout: a NAS class's share by period; after the last step 100%.
    """

    kind: str = STANDARD  # one of CLASS_KINDS (structure_problems refuses another)
    schedule: tuple[int, ...] = ()
    band: tuple[Decimal, Decimal] | None = None
    notional_of: tuple[str, ...] = ()
    lockout: tuple[LockoutStep, ...] = ()

    def scheduled_balance(self, period_number: int) -> int:
        """A PAC's scheduled balance at the end of period `period_number` (1 is the first distribution)."""
        if period_number < 1:
            raise ValueError(f"period_number must be 1 or more, not {period_number}")
        return self.schedule[period_number - 1] if period_number <= len(self.schedule) else 0

    def lockout_percent(self, period_number: int) -> Decimal:
        """A NAS class's share of its pro-rata principal in period `period_number` (100 after the last step)."""
        for step in self.lockout:
            if period_number <= step.through_period:
                return step.percent
        return Decimal(100)


STANDARD_FEATURES = ClassFeatures()

# ------------------------------------------------------------ deal-level


@dataclass(frozen=True, slots=True, kw_only=True)
class LossLimit:
    """From `from_period` on (until the next limit), cumulative losses above `percent` of the cut-off balance fail."""

    from_period: int
    percent: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class Triggers:
    """The tests that decide, after the step-down period, between pro-rata and sequential principal.

    A test fails when cumulative realized losses exceed the cumulative-loss limit for the period
    (percent of the cut-off balance), or the 60+ (or 90+) day delinquent balance at the period's end
    exceeds its percent of the pool's balance then. sticky: once failed, principal stays sequential
    for the rest of the deal; otherwise each period is tested afresh.
    """

    stepdown_period: int
    cumulative_loss: tuple[LossLimit, ...] = ()
    delinquency_60_percent: Decimal | None = None
    delinquency_90_percent: Decimal | None = None
    sticky: bool = True

    def loss_limit(self, period_number: int) -> Decimal | None:
        """The cumulative-loss limit (percent) in force in period `period_number`, None before the first."""
        limit = None
        for step in self.cumulative_loss:
            if step.from_period <= period_number:
                limit = step.percent
        return limit


@dataclass(frozen=True, slots=True, kw_only=True)
class Overcollateralization:
    """The target by which the pool's balance exceeds the classes' (not IO) balances.

    Before the step-down period (or with a trigger failing): target_percent of the cut-off balance.
    After it, with every trigger passing: stepdown_target_percent of the pool's balance at the period's
    end, never below floor_percent of the cut-off balance nor above the first target.
    """

    target_percent: Decimal
    stepdown_target_percent: Decimal
    floor_percent: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReserveAccount:
    """A cash reserve held by the trust: funded at closing with initial_deposit_cents, then from interest
    left up to target_cents; it pays class interest shortfalls and is released to the residual holder
    once every class is retired."""

    target_cents: int
    initial_deposit_cents: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class DealStructure:
    """Everything a deal declares about how its money runs; the standard deal is `STANDARD_STRUCTURE`.

    features: class name -> its features (a class not named is a standard class).
    cleanup_call_percent: the clean-up call may be exercised once the pool's balance falls below this
    percent of its cut-off balance (None: the deal has no call).
    """

    steps: tuple[str, ...] = STANDARD_STEP_NAMES
    trustee_fee_rate: Decimal = Decimal(0)
    features: dict[str, ClassFeatures] = field(default_factory=dict)
    triggers: Triggers | None = None
    overcollateralization: Overcollateralization | None = None
    reserve: ReserveAccount | None = None
    cleanup_call_percent: Decimal | None = None

    def features_of(self, class_name: str) -> ClassFeatures:
        return self.features.get(class_name, STANDARD_FEATURES)


STANDARD_STRUCTURE = DealStructure()


@dataclass(frozen=True, slots=True, kw_only=True)
class ClassOutline:
    """What `structure_problems` needs of a class: its name, face (cents), coupon (None: net WAC), priority."""

    name: str
    face_cents: int
    coupon: Decimal | None
    priority: int


def structure_problems(structure: DealStructure, classes: Sequence[ClassOutline]) -> list[str]:
    """Every way the structure is inconsistent with itself or with the classes, each naming its step or class."""
    return [*_step_problems(structure), *_class_problems(structure, classes)]


def _step_problems(s: DealStructure) -> list[str]:
    problems: list[str] = []
    steps = list(s.steps)
    for name in steps:
        if name not in STEP_NAMES:
            problems.append(f"waterfall step {name!r} is not a known step ({', '.join(STEP_NAMES)})")
    for name in sorted({n for n in steps if steps.count(n) > 1}):
        problems.append(f"waterfall step {name!r} appears more than once")
    problems.extend(f"waterfall step {name!r} is required" for name in REQUIRED_STEPS if name not in steps)
    if EXCESS in steps and steps[-1] != EXCESS:
        problems.append(f"waterfall step {EXCESS!r} must be the last step")
    position = {n: i for i, n in enumerate(steps)}
    for before, after in ((INTEREST, RESERVE_DRAW), (INTEREST, TURBO), (LOSSES, TURBO), (INTEREST, RESERVE_DEPOSIT),
                          (LOSSES, RESERVE_DEPOSIT), (TURBO, RESERVE_DEPOSIT), (RESERVE_DRAW, PRINCIPAL)):
        if before in position and after in position and position[before] > position[after]:
            problems.append(f"waterfall step {after!r} must come after {before!r}")
    problems.extend(f"waterfall step {fee!r} must come before {INTEREST!r}" for fee in FEE_STEPS
                    if fee in position and INTEREST in position and position[fee] > position[INTEREST])
    problems.extend(_declared_together(s, position))
    return problems


def _declared_together(s: DealStructure, position: dict[str, int]) -> list[str]:
    """A step with nothing to run on, or a feature with no step to run it, is refused."""
    problems = []
    pairs = (
        (TRUSTEE_FEE, s.trustee_fee_rate > 0, "a trustee_fee_rate above zero"),
        (TURBO, s.overcollateralization is not None, "an overcollateralization target"),
        (RESERVE_DRAW, s.reserve is not None, "a reserve_account"),
        (RESERVE_DEPOSIT, s.reserve is not None, "a reserve_account"),
    )
    for step, declared, what in pairs:
        if step in position and not declared:
            problems.append(f"waterfall step {step!r} needs {what}")
        if declared and step not in position:
            problems.append(f"the deal declares {what} but no {step!r} step")
    if s.trustee_fee_rate < 0:
        problems.append("trustee_fee_rate cannot be negative")
    return problems


def _class_problems(s: DealStructure, classes: Sequence[ClassOutline]) -> list[str]:
    problems: list[str] = []
    by_name = {c.name: c for c in classes}
    for name in s.features:
        if name not in by_name:
            problems.append(f"class {name}: features given for a class the deal does not have")
    kinds = {c.name: s.features_of(c.name).kind for c in classes}
    for c in classes:
        problems.extend(f"class {c.name}: {p}" for p in _feature_problems(c, s.features_of(c.name), classes, kinds))
    if any(k == SUPPORT for k in kinds.values()) and PAC not in kinds.values():
        problems.append("a support class needs a PAC class in the deal")
    if s.triggers is not None:
        problems.extend(_trigger_problems(s.triggers))
    problems.extend(_deal_percent_problems(s))
    return problems


def _feature_problems(c: ClassOutline, f: ClassFeatures, classes: Sequence[ClassOutline],
                      kinds: dict[str, str]) -> list[str]:
    problems = []
    if f.kind not in CLASS_KINDS:
        return [f"kind {f.kind!r} is not one of {', '.join(CLASS_KINDS)}"]
    if f.schedule and f.kind != PAC:
        problems.append("only a PAC class has a schedule")
    if f.kind == PAC:
        problems.extend(_schedule_problems(c, f))
    if f.notional_of and f.kind != IO:
        problems.append("only an IO class has a notional")
    if f.lockout and f.kind != NAS:
        problems.append("only a NAS class has a lockout")
    if f.kind == ACCRUAL:
        if c.coupon is None or c.coupon <= 0:
            problems.append("an accrual class needs a fixed coupon above zero")
        if not any(o.priority < c.priority and kinds[o.name] != IO for o in classes):
            problems.append("an accrual class needs a class ahead of it (a lower priority) to pay its accrual to")
    if f.kind == IO:
        problems.extend(_io_problems(c, f, kinds))
    if f.kind == PO and c.coupon != 0:
        problems.append("a PO class has a coupon of \"0\"")
    if f.kind == NAS:
        problems.extend(_lockout_problems(f))
    return problems


def _schedule_problems(c: ClassOutline, f: ClassFeatures) -> list[str]:
    if not f.schedule:
        return ["a PAC class needs a schedule of balances"]
    problems = []
    if any(b < 0 for b in f.schedule) or any(b > a for a, b in zip(f.schedule, f.schedule[1:])):
        problems.append("the schedule must not rise and must not go below zero")
    if f.schedule[0] > c.face_cents:
        problems.append("the schedule's first balance is above the class's face")
    if f.band is not None and not 0 <= f.band[0] < f.band[1]:
        problems.append("the band is (lower PSA, upper PSA), lower below upper")
    return problems


def _io_problems(c: ClassOutline, f: ClassFeatures, kinds: dict[str, str]) -> list[str]:
    problems = []
    if c.coupon is None or c.coupon <= 0:
        problems.append("an IO class needs a fixed coupon above zero (on its notional)")
    if not f.notional_of:
        problems.append(f"an IO class needs a notional (class names, or \"{POOL}\")")
    if POOL in f.notional_of and len(f.notional_of) > 1:
        problems.append(f"an IO's notional is \"{POOL}\" or classes, not both")
    for name in f.notional_of:
        if name != POOL and kinds.get(name) in (None, IO):
            problems.append(f"notional class {name} is not a class of the deal that pays principal")
    return problems


def _lockout_problems(f: ClassFeatures) -> list[str]:
    problems = []
    periods = [step.through_period for step in f.lockout]
    if any(p < 1 for p in periods) or periods != sorted(set(periods)):
        problems.append("lockout periods must be 1 or more and rise")
    if any(not 0 <= step.percent <= MAX_SHIFT_PERCENT for step in f.lockout):
        problems.append(f"lockout percents are from 0 to {MAX_SHIFT_PERCENT}")
    return problems


def _trigger_problems(t: Triggers) -> list[str]:
    problems = []
    if t.stepdown_period < 1:
        problems.append("triggers: stepdown_period must be 1 or more")
    froms = [step.from_period for step in t.cumulative_loss]
    if any(p < 1 for p in froms) or froms != sorted(set(froms)):
        problems.append("triggers: cumulative_loss from_period must be 1 or more and rise")
    limits = [step.percent for step in t.cumulative_loss]
    limits += [p for p in (t.delinquency_60_percent, t.delinquency_90_percent) if p is not None]
    if any(not 0 <= p <= 100 for p in limits):
        problems.append("triggers: limits are percents from 0 to 100")
    if not t.cumulative_loss and t.delinquency_60_percent is None and t.delinquency_90_percent is None:
        problems.append("triggers: declare at least one test (cumulative_loss, delinquency_60_percent, "
                        "delinquency_90_percent)")
    return problems


def _deal_percent_problems(s: DealStructure) -> list[str]:
    problems = []
    oc = s.overcollateralization
    if oc is not None:
        values = (oc.target_percent, oc.stepdown_target_percent, oc.floor_percent)
        if any(not 0 <= p <= 100 for p in values):
            problems.append("overcollateralization: percents are from 0 to 100")
        if oc.floor_percent > oc.target_percent:
            problems.append("overcollateralization: the floor is above the target")
        if s.triggers is None and oc.stepdown_target_percent != oc.target_percent:
            problems.append("overcollateralization: a step-down target needs triggers (their stepdown_period)")
    if s.reserve is not None and (s.reserve.target_cents < 0 or s.reserve.initial_deposit_cents < 0
                                  or s.reserve.initial_deposit_cents > s.reserve.target_cents):
        problems.append("reserve_account: the target and initial deposit are amounts, the deposit at most the target")
    if s.cleanup_call_percent is not None and not 0 < s.cleanup_call_percent <= 50:
        problems.append("cleanup_call_percent must be above 0 and at most 50")
    return problems
