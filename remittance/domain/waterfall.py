"""The deal's waterfall: one period's collections paid out, to the cent.

One waterfall serves the whole codebase: the month-end close calls it with
what was actually collected, and cash-flow projections call it with
projected collections. A deal's waterfall is declared as data, a tuple of
steps (PayFee, PayInterest, DrawReserve, PayPrincipal, WriteOffLosses,
PayTurbo, DepositReserve, PayExcess), in the style of Hastructure, and run
by one pure function, `run_waterfall`. `STANDARD_STEPS` is the standard
deal; a deal's step names (trusts.domain.deal_structure, whose module
docstring is the spec of each step) become steps by `steps_from_names`.

Conventions:
- Money is integer cents; coupons are Decimal annual percentages
  (Decimal("5") is 5%); a coupon of None marks a "net WAC" class.
- Interest and principal are separate pots: interest pays the fees, the
  issuer spread and class interest; principal pays class principal. Only
  the deal's own rules move cash between them: an accrual (Z) class's
  interest paid as principal to the classes ahead of it (accrual_cents) and
  turbo principal from interest (turbo_principal_cents).
- A "class" is a tranche. Priority 1 is the most senior; classes that
  share a priority are paid pro rata with each other. How principal is
  shared (PAC, NAS, groups or pro rata, busted PAC) is
  remittance.domain.principal_distribution; triggers and the
  over-collateralisation target are remittance.domain.credit_support.
- An IO class's balances are its notional (its notional classes' balances,
  or the pool's); it is paid interest on it and never principal or losses.
- Every split is exact (largest remainder, ties to the smaller class name),
  and the result is checked for conservation before it is returned.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from itertools import groupby
from typing import Literal, cast

from ledger.domain.money import CentsError, allocate, monthly_rate_amount, require_cents
from remittance.domain.credit_support import TriggerStatus, oc_target_cents, trigger_status
from remittance.domain.principal_distribution import Payee, distribute_principal
from trusts.domain.deal_structure import (
    ACCRUAL,
    EXCESS,
    INTEREST,
    IO,
    LOSSES,
    POOL,
    PRINCIPAL,
    RESERVE_DEPOSIT,
    RESERVE_DRAW,
    SERVICING_FEE,
    SPREAD,
    STANDARD_FEATURES,
    STANDARD_STRUCTURE,
    TRUSTEE_FEE,
    TURBO,
    ClassFeatures,
    ClassOutline,
    DealStructure,
    structure_problems,
)
from trusts.domain.principal_rules import PRINCIPAL_RULES, PRO_RATA, PrincipalRule, priorities_shared_by_sequential

FeeKind = Literal["trustee", "servicing", "spread"]


class WaterfallError(ValueError):
    """The inputs or the declared steps cannot be run as a waterfall."""


class ConservationError(AssertionError):
    """A waterfall result does not account for every cent it was given."""


# ---------------------------------------------------------------- inputs


@dataclass(frozen=True, slots=True, kw_only=True)
class PeriodCollections:
    """What the period brought in for distribution (cash) and what it lost.

    principal_collected_cents is scheduled principal + curtailments +
    payoffs + liquidation principal. realized_loss_cents is not cash: it is
    the balance that will never be collected and must be written off.
    """

    interest_collected_cents: int
    principal_collected_cents: int
    realized_loss_cents: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Fees:
    """The period's servicing fee and issuer spread, computed by the caller.

    The carried amounts are the fee and spread that earlier periods could
    not pay; they are due first, on top of this period's amounts.
    """

    servicing_fee_cents: int
    issuer_spread_cents: int
    fee_shortfall_carried_cents: int = 0
    spread_shortfall_carried_cents: int = 0
    trustee_fee_cents: int = 0
    trustee_fee_shortfall_carried_cents: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class DealState:
    """Where the deal stands for this period, beyond its classes: what its triggers, over-collateralisation,
    reserve account and clean-up call run on (trusts.domain.deal_structure).

    period_number: 1 for the first distribution. Pool balances are the period's start and end.
    cumulative_loss_before_cents: realized losses of every earlier period (this period's is added).
    delinquent_60_cents / delinquent_90_cents: the pool's balance 60+ / 90+ days delinquent at the
    period's end (foreclosure, REO and bankruptcy included). reserve_balance_cents: the reserve account
    at the period's start (the initial deposit in period 1). trigger_failed: a sticky trigger failed in
    an earlier period. call_exercised: the clean-up call was exercised in this period, so every class
    is retired by it (what principal cannot pay is written off) and the reserve is released.
    """

    period_number: int = 1
    pool_balance_begin_cents: int = 0
    pool_balance_end_cents: int = 0
    cutoff_balance_cents: int = 0
    cumulative_loss_before_cents: int = 0
    delinquent_60_cents: int = 0
    delinquent_90_cents: int = 0
    reserve_balance_cents: int = 0
    trigger_failed: bool = False
    call_exercised: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ClassState:
    """A class (tranche) as it stands at the start of the period.

    coupon None is a net-WAC pass-through class: it takes all interest left
    after the fee, the spread and fixed-coupon classes, shared by balance.
    """

    name: str
    balance_cents: int
    coupon: Decimal | None
    principal_rule: PrincipalRule = "pro-rata"
    priority: int = 1
    interest_shortfall_carried_cents: int = 0
    features: ClassFeatures = STANDARD_FEATURES  # PAC schedule, accrual, IO notional, NAS lockout


# ----------------------------------------------------------------- steps


@dataclass(frozen=True, slots=True, kw_only=True)
class PayFee:
    """Pay the trustee fee, the servicing fee or the issuer spread (with any carried shortfall) from interest."""

    fee: FeeKind


@dataclass(frozen=True, slots=True)
class PayInterest:
    """Pay class interest from what interest is left: fixed coupons (IO on notional, Z accruing) by
    priority, then net WAC."""


@dataclass(frozen=True, slots=True)
class DrawReserve:
    """The reserve account pays the cash-interest classes' interest still unpaid, by priority."""


@dataclass(frozen=True, slots=True)
class PayPrincipal:
    """Pay the principal distribution amount (and any Z accrual) by the principal rule, less any OC release."""


@dataclass(frozen=True, slots=True)
class WriteOffLosses:
    """Write realized losses (beyond the over-collateralisation) down from the most junior class up,
    then, when the clean-up call is exercised, every balance left."""


@dataclass(frozen=True, slots=True)
class PayTurbo:
    """Pay interest left as principal until the over-collateralisation reaches its target."""


@dataclass(frozen=True, slots=True)
class DepositReserve:
    """Pay interest left into the reserve account up to its target."""


@dataclass(frozen=True, slots=True)
class PayExcess:
    """Sweep interest and principal left over (and any reserve released) to the residual holder."""


Step = PayFee | PayInterest | DrawReserve | PayPrincipal | WriteOffLosses | PayTurbo | DepositReserve | PayExcess
_STEP_TYPES = (PayFee, PayInterest, DrawReserve, PayPrincipal, WriteOffLosses, PayTurbo, DepositReserve, PayExcess)

STANDARD_STEPS: tuple[Step, ...] = (
    PayFee(fee="servicing"),
    PayFee(fee="spread"),
    PayInterest(),
    PayPrincipal(),
    WriteOffLosses(),
    PayExcess(),
)


# ---------------------------------------------------------------- output


@dataclass(frozen=True, slots=True, kw_only=True)
class ClassResult:
    """What one class was due, was paid and lost this period."""

    name: str
    balance_begin_cents: int
    interest_due_cents: int
    interest_paid_cents: int
    # What is still owed at the end of the period, carried to the next one.
    interest_shortfall_carried_cents: int
    principal_paid_cents: int
    loss_written_off_cents: int
    balance_end_cents: int
    # An accrual (Z) class's interest added to its balance instead of paid (balance_end includes it).
    interest_accrued_cents: int = 0
    kind: str = "standard"  # trusts.domain.deal_structure.CLASS_KINDS; an IO's balances are its notional


@dataclass(frozen=True, slots=True, kw_only=True)
class WaterfallResult:
    """Where every cent of one period's collections went."""

    interest_collected_cents: int
    principal_collected_cents: int
    realized_loss_cents: int
    # Due = this period's amount plus the shortfall carried in.
    fee_due_cents: int
    spread_due_cents: int
    fee_paid_cents: int
    spread_paid_cents: int
    fee_shortfall_cents: int
    spread_shortfall_cents: int
    classes: tuple[ClassResult, ...]
    excess_interest_cents: int
    excess_principal_cents: int
    # Loss beyond every class balance: only when the classes were already
    # smaller than the pool; reported rather than hidden.
    unabsorbed_loss_cents: int
    trustee_fee_due_cents: int = 0
    trustee_fee_paid_cents: int = 0
    trustee_fee_shortfall_cents: int = 0
    # Accrual classes' interest moved from the interest pot to the principal pot (paid to classes ahead).
    accrual_cents: int = 0
    # Over-collateralisation: pool end less the classes' (not IO) end balances; its target; principal
    # held back from the classes because it was above target (in excess_principal_cents); interest paid
    # as principal to reach it; realized loss it absorbed (not written off any class).
    oc_target_cents: int = 0
    oc_end_cents: int = 0
    oc_release_cents: int = 0
    turbo_principal_cents: int = 0
    loss_absorbed_by_oc_cents: int = 0
    # The reserve account: begin + deposit - draw - released = end; released goes to the residual holder.
    reserve_balance_begin_cents: int = 0
    reserve_draw_cents: int = 0
    reserve_deposit_cents: int = 0
    reserve_released_cents: int = 0
    reserve_balance_end_cents: int = 0
    triggers: TriggerStatus | None = None
    # The clean-up call retired every class this period; what principal could not pay was written off
    # (included in the classes' loss_written_off_cents, on top of the realized loss).
    retired_by_call: bool = False
    call_written_off_cents: int = 0

    def for_class(self, name: str) -> ClassResult:
        """The result of the class called name."""
        for result in self.classes:
            if result.name == name:
                return result
        raise KeyError(name)

    def check_conservation(self) -> None:
        """Raise ConservationError unless every cent collected (and every reserve cent) is accounted for."""
        classes = self.classes
        paying = [c for c in classes if c.kind != IO]
        problems = []
        if self.interest_collected_cents + self.reserve_draw_cents != (
            self.trustee_fee_paid_cents + self.fee_paid_cents + self.spread_paid_cents
            + sum(c.interest_paid_cents for c in classes) + self.accrual_cents + self.turbo_principal_cents
            + self.reserve_deposit_cents + self.excess_interest_cents
        ):
            problems.append("interest collected + reserve draw != trustee fee + fee + spread + class interest "
                            "+ accrual + turbo + reserve deposit + excess interest")
        principal_paid = sum(c.principal_paid_cents for c in classes)
        if (self.principal_collected_cents + self.accrual_cents + self.turbo_principal_cents
                != principal_paid + self.excess_principal_cents):
            problems.append("principal collected + accrual + turbo != class principal + excess principal")
        losses_written_off = sum(c.loss_written_off_cents for c in classes)
        if (self.realized_loss_cents + self.call_written_off_cents
                != losses_written_off + self.loss_absorbed_by_oc_cents + self.unabsorbed_loss_cents):
            problems.append("realized loss + call written off != losses written off + absorbed by OC "
                            "+ unabsorbed loss")
        if sum(c.balance_begin_cents + c.interest_accrued_cents for c in paying) - sum(
            c.principal_paid_cents + c.loss_written_off_cents for c in paying
        ) != sum(c.balance_end_cents for c in paying):
            problems.append("class balances do not roll forward")
        if (self.reserve_balance_begin_cents + self.reserve_deposit_cents - self.reserve_draw_cents
                - self.reserve_released_cents != self.reserve_balance_end_cents):
            problems.append("reserve begin + deposit - draw - released != reserve end")
        for what, paid, short, due in (
            ("trustee fee", self.trustee_fee_paid_cents, self.trustee_fee_shortfall_cents, self.trustee_fee_due_cents),
            ("fee", self.fee_paid_cents, self.fee_shortfall_cents, self.fee_due_cents),
            ("spread", self.spread_paid_cents, self.spread_shortfall_cents, self.spread_due_cents),
        ):
            if paid + short != due:
                problems.append(f"{what} paid + {what} shortfall != {what} due")
        problems.extend(_class_problems(classes))
        problems.extend(_negative_amounts(self))
        if problems:
            raise ConservationError("; ".join(problems))


def _class_problems(classes: Sequence[ClassResult]) -> list[str]:
    problems = []
    for c in classes:
        if c.interest_paid_cents + c.interest_accrued_cents + c.interest_shortfall_carried_cents != c.interest_due_cents:
            problems.append(f"class {c.name}: interest paid + accrued + shortfall != interest due")
        if c.kind == IO:
            # An IO's balances are its notional: it is never paid principal, written down or accreted.
            if c.principal_paid_cents or c.loss_written_off_cents or c.interest_accrued_cents:
                problems.append(f"class {c.name}: an IO class was paid principal, written down or accreted")
        elif (c.balance_begin_cents + c.interest_accrued_cents - c.principal_paid_cents - c.loss_written_off_cents
              != c.balance_end_cents):
            problems.append(f"class {c.name}: balance does not roll forward")
        problems.extend(f"class {c.name}: {p}" for p in _negative_amounts(c))
    return problems


def _negative_amounts(record: ClassResult | WaterfallResult) -> list[str]:
    return [
        f"{name} is negative"
        for name in record.__slots__
        if name.endswith("_cents") and getattr(record, name) < 0
    ]


# ------------------------------------------------------------ interpreter


@dataclass(slots=True, kw_only=True)
class _Tranche:
    """One class part-way through the period (mutable inside one run only)."""

    state: ClassState
    features: ClassFeatures
    balance_begin: int  # an IO's notional at the period's start
    balance: int
    interest_due: int
    shortfall: int
    interest_paid: int = 0
    accrued: int = 0
    principal: int = 0
    written_off: int = 0
    accruing: bool = False  # an accrual (Z) class with a class ahead of it outstanding at the start

    @property
    def name(self) -> str:
        return self.state.name

    @property
    def priority(self) -> int:
        return self.state.priority

    @property
    def is_io(self) -> bool:
        return self.features.kind == IO


@dataclass(slots=True, kw_only=True)
class _Run:
    """The waterfall part-way through: what is left in each pot and what has been paid (one run only)."""

    state: DealState
    structure: DealStructure
    tranches: list[_Tranche]
    interest_left: int
    principal_left: int
    loss_left: int
    fees_due: dict[str, int]
    fees_paid: dict[str, int]
    triggers: TriggerStatus | None
    oc_target: int
    reserve: int
    accrual_by_class: dict[str, int] = field(default_factory=dict)  # Z accrual cash not yet paid as principal
    accrual: int = 0
    excess_interest: int = 0
    excess_principal: int = 0
    oc_release: int = 0
    turbo: int = 0
    absorbed_by_oc: int = 0
    unabsorbed: int = 0
    call_written_off: int = 0
    reserve_draw: int = 0
    reserve_deposit: int = 0
    reserve_released: int = 0

    def paying(self) -> list[_Tranche]:
        """The classes that carry a balance (every class but IO)."""
        return [t for t in self.tranches if not t.is_io]

    def class_balances(self) -> int:
        return sum(t.balance for t in self.paying())


def run_waterfall(
    *,
    collections: PeriodCollections,
    fees: Fees,
    classes: Sequence[ClassState],
    steps: Sequence[Step] | None = None,
    structure: DealStructure = STANDARD_STRUCTURE,
    state: DealState = DealState(),
) -> WaterfallResult:
    """Run the declared steps over one period's collections and return where it all went.

    steps: the Step values to run; None runs the deal's own, `structure.steps` (by name).
    structure: the deal's features, triggers, over-collateralisation, reserve and call; a class's
    features are its ClassState.features, or else structure.features_of(its name).
    state: where the deal stands this period (DealState).

    The classes and structure must pass trusts.domain.deal_structure.structure_problems. Every cent
    must end somewhere: a step list that leaves interest, principal or loss undistributed (e.g. one
    without PayExcess) is an error, and the result is checked for conservation before it returns.
    """
    if steps is None:
        steps = steps_from_names(structure.steps)
    _validate_inputs(collections=collections, fees=fees, classes=classes, state=state)
    _validate_steps(steps)
    features = _features(classes, structure)
    _validate_structure(structure, classes, features)
    run = _opening(collections=collections, fees=fees, classes=classes, structure=structure, state=state,
                   features=features)
    for step in steps:
        _apply(run, step)
    if run.interest_left or run.principal_left or run.loss_left or any(run.accrual_by_class.values()):
        raise WaterfallError(
            f"the steps left interest {run.interest_left}, principal "
            f"{run.principal_left + sum(run.accrual_by_class.values())} "
            f"and loss {run.loss_left} cents undistributed; end with WriteOffLosses and PayExcess"
        )
    result = _result(run, collections)
    result.check_conservation()
    return result


_STEPS_BY_NAME: dict[str, Step] = {
    TRUSTEE_FEE: PayFee(fee="trustee"), SERVICING_FEE: PayFee(fee="servicing"), SPREAD: PayFee(fee="spread"),
    INTEREST: PayInterest(), RESERVE_DRAW: DrawReserve(), PRINCIPAL: PayPrincipal(), LOSSES: WriteOffLosses(),
    TURBO: PayTurbo(), RESERVE_DEPOSIT: DepositReserve(), EXCESS: PayExcess(),
}


def steps_from_names(names: Sequence[str]) -> tuple[Step, ...]:
    """The Step values of a deal's declared step names (trusts.domain.deal_structure.STEP_NAMES)."""
    unknown = [n for n in names if n not in _STEPS_BY_NAME]
    if unknown:
        raise WaterfallError(f"waterfall step {unknown[0]!r} is not a step this waterfall runs")
    return tuple(_STEPS_BY_NAME[n] for n in names)


def _apply(run: _Run, step: Step) -> None:
    if isinstance(step, PayFee):
        _pay_fee(run, step.fee)
    elif isinstance(step, PayInterest):
        _pay_interest(run)
    elif isinstance(step, DrawReserve):
        _draw_reserve(run)
    elif isinstance(step, PayPrincipal):
        _pay_principal(run)
    elif isinstance(step, WriteOffLosses):
        _write_off_losses(run)
    elif isinstance(step, PayTurbo):
        _pay_turbo(run)
    elif isinstance(step, DepositReserve):
        _deposit_reserve(run)
    else:
        _pay_excess(run)


def _features(classes: Sequence[ClassState], structure: DealStructure) -> dict[str, ClassFeatures]:
    """Each class's features: its own (ClassState.features), else the structure's for its name."""
    features = {}
    for s in classes:
        declared = structure.features_of(s.name)
        if s.features != STANDARD_FEATURES and declared != STANDARD_FEATURES and s.features != declared:
            raise WaterfallError(f"class {s.name}: its features differ from the structure's features for it")
        features[s.name] = s.features if s.features != STANDARD_FEATURES else declared
    return features


def _validate_structure(structure: DealStructure, classes: Sequence[ClassState],
                        features: Mapping[str, ClassFeatures]) -> None:
    # The waterfall sees balances, not faces: a class part-paid may be below its PAC schedule's first
    # balance, so the face given to the check is never below it (the deal file checks the real face).
    outlines = [
        ClassOutline(name=s.name, coupon=s.coupon, priority=s.priority,
                     face_cents=max([s.balance_cents, *features[s.name].schedule[:1]]))
        for s in classes
    ]
    merged = {**structure.features, **{n: f for n, f in features.items() if f != STANDARD_FEATURES}}
    problems = structure_problems(replace(structure, features=merged), outlines)
    if problems:
        raise WaterfallError("; ".join(problems))


def _opening(*, collections: PeriodCollections, fees: Fees, classes: Sequence[ClassState],
             structure: DealStructure, state: DealState, features: Mapping[str, ClassFeatures]) -> _Run:
    # Order the classes once, by seniority then name, so that the result does
    # not depend on the order the caller listed them in.
    states = sorted(classes, key=lambda s: (s.priority, s.name))
    balance_at_start = {s.name: s.balance_cents for s in states}
    tranches = []
    for s in states:
        f = features[s.name]
        begin = _notional(f, balance_at_start, state.pool_balance_begin_cents) if f.kind == IO else s.balance_cents
        # In the call's period every class is retired, so a Z is paid its interest in cash, not accreted
        # onto a balance the call writes off (whichever of interest and losses runs first).
        accruing = f.kind == ACCRUAL and not state.call_exercised and any(
            o.priority < s.priority and features[o.name].kind != IO and o.balance_cents > 0 for o in states
        )
        # Until PayInterest runs, everything carried in is still owed.
        tranches.append(_Tranche(state=s, features=f, balance_begin=begin, balance=begin, accruing=accruing,
                                 interest_due=s.interest_shortfall_carried_cents,
                                 shortfall=s.interest_shortfall_carried_cents))
    triggers = None
    if structure.triggers is not None:
        triggers = trigger_status(
            structure.triggers, period_number=state.period_number, cutoff_balance_cents=state.cutoff_balance_cents,
            cumulative_loss_cents=state.cumulative_loss_before_cents + collections.realized_loss_cents,
            pool_balance_end_cents=state.pool_balance_end_cents, delinquent_60_cents=state.delinquent_60_cents,
            delinquent_90_cents=state.delinquent_90_cents, failed_before=state.trigger_failed,
        )
    oc = structure.overcollateralization
    oc_target = 0 if oc is None else oc_target_cents(
        oc, status=triggers, cutoff_balance_cents=state.cutoff_balance_cents,
        pool_balance_end_cents=state.pool_balance_end_cents,
    )
    fees_due = {
        "trustee": fees.trustee_fee_cents + fees.trustee_fee_shortfall_carried_cents,
        "servicing": fees.servicing_fee_cents + fees.fee_shortfall_carried_cents,
        "spread": fees.issuer_spread_cents + fees.spread_shortfall_carried_cents,
    }
    return _Run(
        state=state, structure=structure, tranches=tranches,
        interest_left=collections.interest_collected_cents, principal_left=collections.principal_collected_cents,
        loss_left=collections.realized_loss_cents, fees_due=fees_due, fees_paid=dict.fromkeys(fees_due, 0),
        triggers=triggers, oc_target=oc_target, reserve=state.reserve_balance_cents,
    )


def _notional(f: ClassFeatures, balances: Mapping[str, int], pool_cents: int) -> int:
    """An IO's notional: the pool's balance, or the sum of its notional classes' balances."""
    return pool_cents if POOL in f.notional_of else sum(balances[name] for name in f.notional_of)


def _pay_fee(run: _Run, fee: FeeKind) -> None:
    paid = min(run.fees_due[fee] - run.fees_paid[fee], run.interest_left)
    run.fees_paid[fee] += paid
    run.interest_left -= paid


def _pay_interest(run: _Run) -> None:
    fixed = [t for t in run.tranches if t.state.coupon is not None]
    for group in _priority_groups(fixed):
        dues = [monthly_rate_amount(t.balance_begin, cast(Decimal, t.state.coupon)) + t.state.interest_shortfall_carried_cents
                for t in group]
        # A short group is paid pro rata by amount due; a part never exceeds its due.
        paying = min(run.interest_left, sum(dues))
        parts = allocate(paying, dues, keys=[t.name for t in group])
        run.interest_left -= paying
        for t, due, part in zip(group, dues, parts):
            t.interest_due, t.shortfall = due, due - part
            if t.accruing:
                # The Z's interest is added to its balance; its cash joins principal, for the classes ahead.
                t.accrued, t.balance = part, t.balance + part
                run.accrual += part
                run.accrual_by_class[t.name] = part
            else:
                t.interest_paid = part
    net_wac = [t for t in run.tranches if t.state.coupon is None]
    weights = [t.balance_begin for t in net_wac]
    # Net-WAC classes are owed exactly what is left, so they never run short;
    # with no net-WAC balance left, the remainder is excess spread.
    paying = run.interest_left if sum(weights) > 0 else 0
    for t, part in zip(net_wac, allocate(paying, weights, keys=[t.name for t in net_wac])):
        t.interest_due = t.interest_paid = part
        t.shortfall = 0
    run.interest_left -= paying


def _draw_reserve(run: _Run) -> None:
    # Only interest owed in cash: an accruing Z's unpaid accrual is not drawn for.
    owed = [t for t in run.tranches if t.shortfall > 0 and not t.accruing]
    for group in _priority_groups(owed):
        shortfalls = [t.shortfall for t in group]
        drawing = min(run.reserve, sum(shortfalls))
        for t, part in zip(group, allocate(drawing, shortfalls, keys=[t.name for t in group])):
            t.interest_paid += part
            t.shortfall -= part
        run.reserve -= drawing
        run.reserve_draw += drawing


def _pay_principal(run: _Run) -> None:
    oc = run.structure.overcollateralization
    if oc is not None:
        # Principal that would lift the OC above its target is held back from the classes.
        all_paid = run.class_balances() - run.principal_left - sum(run.accrual_by_class.values())
        release = min(run.principal_left, max(0, run.state.pool_balance_end_cents - all_paid - run.oc_target))
        run.oc_release += release
        run.excess_principal += release
        run.principal_left -= release
    for z in [t for t in run.tranches if run.accrual_by_class.get(t.name)]:
        # The accrual pays the classes ahead of the Z; what they cannot take pays the Z itself, and
        # what the Z cannot take either (written off before this step) joins the principal pot.
        ahead = [t for t in run.paying() if t.priority < z.priority]
        left = _pay_by_rule(run, run.accrual_by_class.pop(z.name), ahead)
        to_z = min(left, z.balance)
        z.principal += to_z
        z.balance -= to_z
        run.principal_left += left - to_z
    run.principal_left = _pay_by_rule(run, run.principal_left, run.paying())


def _pay_by_rule(run: _Run, amount: int, tranches: Sequence[_Tranche]) -> int:
    """Pay amount as principal to the tranches by the principal rule; returns what none could take."""
    payees = [Payee(name=t.name, priority=t.priority, balance_cents=t.balance, features=t.features) for t in tranches]
    all_pro_rata = run.triggers is not None and run.triggers.principal_rule == PRO_RATA
    paid, left = distribute_principal(amount, payees, period_number=run.state.period_number,
                                      all_pro_rata=all_pro_rata)
    for t in tranches:
        t.principal += paid.get(t.name, 0)
        t.balance -= paid.get(t.name, 0)
    return left


def _write_off_losses(run: _Run) -> None:
    loss = run.loss_left
    writing = loss
    if run.structure.overcollateralization is not None:
        # The over-collateralisation absorbs the loss until the classes stand above the pool.
        writing = min(loss, max(0, run.class_balances() - run.state.pool_balance_end_cents))
        run.absorbed_by_oc += loss - writing
    # Losses climb from the most junior group (highest priority number) up.
    left = writing
    for group in reversed(_priority_groups(run.paying())):
        balances = [t.balance for t in group]
        taking = min(left, sum(balances))
        for t, part in zip(group, allocate(taking, balances, keys=[t.name for t in group])):
            t.written_off += part
            t.balance -= part
        left -= taking
    run.unabsorbed += left
    run.loss_left = 0
    if run.state.call_exercised:
        # The clean-up call retires every class: what principal did not pay is written off.
        for t in run.paying():
            t.written_off += t.balance
            run.call_written_off += t.balance
            t.balance = 0


def _pay_turbo(run: _Run) -> None:
    if run.structure.overcollateralization is None:
        return  # no target to reach (a PayTurbo passed as a step to a deal without one)
    deficiency = max(0, run.oc_target - (run.state.pool_balance_end_cents - run.class_balances()))
    turbo = min(run.interest_left, deficiency)
    paid = turbo - _pay_by_rule(run, turbo, run.paying())
    run.turbo += paid
    run.interest_left -= paid


def _deposit_reserve(run: _Run) -> None:
    target = run.structure.reserve.target_cents if run.structure.reserve is not None else 0
    deposit = min(run.interest_left, max(0, target - run.reserve))
    run.reserve += deposit
    run.reserve_deposit += deposit
    run.interest_left -= deposit


def _pay_excess(run: _Run) -> None:
    run.excess_interest += run.interest_left
    run.excess_principal += run.principal_left + sum(run.accrual_by_class.values())
    run.interest_left = run.principal_left = 0
    run.accrual_by_class.clear()
    reserve = run.structure.reserve
    if reserve is not None:
        # Above target, the excess is released; once every class is retired, all of it.
        retired = run.state.call_exercised or run.class_balances() == 0
        release = run.reserve if retired else max(0, run.reserve - reserve.target_cents)
        run.reserve_released += release
        run.reserve -= release


def _result(run: _Run, collections: PeriodCollections) -> WaterfallResult:
    end = {t.name: t.balance for t in run.tranches}
    pool_end = 0 if run.state.call_exercised else run.state.pool_balance_end_cents
    classes = tuple(
        ClassResult(
            name=t.name, balance_begin_cents=t.balance_begin, interest_due_cents=t.interest_due,
            interest_paid_cents=t.interest_paid, interest_shortfall_carried_cents=t.shortfall,
            principal_paid_cents=t.principal, loss_written_off_cents=t.written_off,
            balance_end_cents=_notional(t.features, end, pool_end) if t.is_io else t.balance,
            interest_accrued_cents=t.accrued, kind=t.features.kind,
        )
        for t in run.tranches
    )
    due, paid = run.fees_due, run.fees_paid
    oc = run.structure.overcollateralization is not None
    return WaterfallResult(
        interest_collected_cents=collections.interest_collected_cents,
        principal_collected_cents=collections.principal_collected_cents,
        realized_loss_cents=collections.realized_loss_cents,
        fee_due_cents=due["servicing"], spread_due_cents=due["spread"],
        fee_paid_cents=paid["servicing"], spread_paid_cents=paid["spread"],
        fee_shortfall_cents=due["servicing"] - paid["servicing"], spread_shortfall_cents=due["spread"] - paid["spread"],
        classes=classes, excess_interest_cents=run.excess_interest, excess_principal_cents=run.excess_principal,
        unabsorbed_loss_cents=run.unabsorbed,
        trustee_fee_due_cents=due["trustee"], trustee_fee_paid_cents=paid["trustee"],
        trustee_fee_shortfall_cents=due["trustee"] - paid["trustee"],
        accrual_cents=run.accrual,
        oc_target_cents=run.oc_target if oc else 0,
        # A pool below its classes has no over-collateralisation (never reported negative).
        oc_end_cents=max(0, run.state.pool_balance_end_cents - run.class_balances()) if oc else 0,
        oc_release_cents=run.oc_release, turbo_principal_cents=run.turbo,
        loss_absorbed_by_oc_cents=run.absorbed_by_oc,
        reserve_balance_begin_cents=run.state.reserve_balance_cents, reserve_draw_cents=run.reserve_draw,
        reserve_deposit_cents=run.reserve_deposit, reserve_released_cents=run.reserve_released,
        reserve_balance_end_cents=run.reserve,
        triggers=run.triggers, retired_by_call=run.state.call_exercised, call_written_off_cents=run.call_written_off,
    )


def _priority_groups(tranches: Sequence[_Tranche]) -> list[list[_Tranche]]:
    """Classes grouped by priority, most senior group first, names ascending inside."""
    ordered = sorted(tranches, key=lambda t: (t.priority, t.name))
    return [list(group) for _, group in groupby(ordered, key=lambda t: t.priority)]


# ------------------------------------------------------------- validation


def _validate_inputs(*, collections: PeriodCollections, fees: Fees, classes: Sequence[ClassState],
                     state: DealState) -> None:
    for record in (collections, fees):
        for name in record.__slots__:
            _require_cents(f"{type(record).__name__}.{name}", getattr(record, name))
    for name in state.__slots__:
        if name.endswith("_cents"):
            _require_cents(f"DealState.{name}", getattr(state, name))
    if not isinstance(state.period_number, int) or state.period_number < 1:
        raise WaterfallError(f"DealState.period_number must be 1 or more, not {state.period_number!r}")
    names = [s.name for s in classes]
    if len(set(names)) != len(names):
        raise WaterfallError(f"class names must be unique: {names}")
    for class_state in classes:
        _validate_class(class_state)
    # Two sequential classes at one priority would have no defined order.
    for priority in priorities_shared_by_sequential((s.priority, s.principal_rule) for s in classes)[:1]:
        raise WaterfallError(f"priority {priority}: a sequential class must have a priority of its own")


def _validate_class(state: ClassState) -> None:
    if not isinstance(state.name, str) or not state.name:
        raise WaterfallError(f"class name must be a non-empty string, not {state.name!r}")
    _require_cents(f"class {state.name} balance_cents", state.balance_cents)
    _require_cents(
        f"class {state.name} interest_shortfall_carried_cents", state.interest_shortfall_carried_cents
    )
    coupon = state.coupon
    if coupon is not None and (not isinstance(coupon, Decimal) or not coupon.is_finite() or coupon < 0):
        raise WaterfallError(
            f"class {state.name}: coupon must be a non-negative Decimal or None, not {coupon!r}"
        )
    if state.coupon is None and state.interest_shortfall_carried_cents:
        # A net-WAC class is owed only what is left, so it can never be short.
        raise WaterfallError(f"class {state.name}: a net-WAC class cannot carry an interest shortfall")
    if state.principal_rule not in PRINCIPAL_RULES:
        raise WaterfallError(f"class {state.name}: principal_rule must be one of {PRINCIPAL_RULES}")
    if not isinstance(state.priority, int) or isinstance(state.priority, bool):
        raise WaterfallError(f"class {state.name}: priority must be an int")


def _validate_steps(steps: Sequence[Step]) -> None:
    for step in steps:
        if not isinstance(step, _STEP_TYPES):
            raise WaterfallError(f"unknown waterfall step {step!r}")
        if isinstance(step, PayFee) and step.fee not in ("trustee", "servicing", "spread"):
            raise WaterfallError(f"PayFee.fee must be 'trustee', 'servicing' or 'spread', not {step.fee!r}")
    # Running a step twice would pay the same amount due twice.
    if len(set(steps)) != len(steps):
        raise WaterfallError(f"each step may appear once: {list(steps)}")


def _require_cents(label: str, value: object) -> None:
    """ledger.domain.money's check of an amount, refused as the waterfall's own error."""
    try:
        require_cents(value, label)
    except CentsError as error:
        raise WaterfallError(str(error)) from None


def carried_forward(*, classes: Sequence[ClassState], result: WaterfallResult) -> tuple[ClassState, ...]:
    """The classes as they start the next period: end balances (an IO's: its notional at the end) and
    shortfalls carried in; features kept."""
    return tuple(
        replace(
            state,
            balance_cents=result.for_class(state.name).balance_end_cents,
            interest_shortfall_carried_cents=result.for_class(state.name).interest_shortfall_carried_cents,
        )
        for state in classes
    )


# ---------------------------------------------------------------- holders


def split_among_holders(*, amount_cents: int, holdings: Sequence[tuple[str, int]]) -> dict[str, int]:
    """Split a class's payment among its holders pro rata by face held, exactly.

    holdings are (holder code, face held in cents) on the record date. Cents
    go by largest remainder, ties to the smaller holder code, so the parts
    always sum to amount_cents and the same inputs always split the same way.
    """
    _require_cents("amount_cents", amount_cents)
    codes = [code for code, _ in holdings]
    if len(set(codes)) != len(codes):
        raise WaterfallError(f"each holder may appear once: {codes}")
    for code, face in holdings:
        _require_cents(f"face held by {code}", face)
    if amount_cents and not any(face for _, face in holdings):
        raise WaterfallError(f"cannot split {amount_cents} cents among holders with no face")
    parts = allocate(amount_cents, [face for _, face in holdings], keys=codes)
    return dict(zip(codes, parts))
