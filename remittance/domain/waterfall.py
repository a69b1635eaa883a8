"""The deal's waterfall: one period's collections paid out, to the cent.

One waterfall serves the whole codebase: the month-end close calls it with
what was actually collected, and cash-flow projections will call it with
projected collections. A deal's waterfall is declared as data, a tuple of
steps (PayFee, PayInterest, PayPrincipal, WriteOffLosses, PayExcess), in
the style of Hastructure, and run by one pure function, `run_waterfall`.
`STANDARD_STEPS` is the standard deal.

Conventions:
- Money is integer cents; coupons are Decimal annual percentages
  (Decimal("5") is 5%); a coupon of None marks a "net WAC" class.
- Interest and principal are separate pots: interest pays the servicing
  fee, the issuer spread and class interest; principal pays class
  principal. Neither pot ever covers the other.
- A "class" is a tranche. Priority 1 is the most senior; classes that
  share a priority are paid pro rata with each other.
- Every split is exact (largest remainder, ties to the smaller class name),
  and the result is checked for conservation before it is returned.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from itertools import groupby
from typing import Any, Literal, cast

from ledger.domain.money import CentsError, allocate, monthly_rate_amount, require_cents
from trusts.domain.deal_structure import STANDARD_FEATURES, STANDARD_STRUCTURE, ClassFeatures, DealStructure
from trusts.domain.principal_rules import PRINCIPAL_RULES, PrincipalRule, priorities_shared_by_sequential

FeeKind = Literal["servicing", "spread"]


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
    """Pay the servicing fee or the issuer spread (with any carried shortfall) from interest."""

    fee: FeeKind


@dataclass(frozen=True, slots=True)
class PayInterest:
    """Pay class interest from what interest is left: fixed coupons by priority, then net WAC."""


@dataclass(frozen=True, slots=True)
class PayPrincipal:
    """Pay principal to classes by priority, each priority group paid to zero before the next."""


@dataclass(frozen=True, slots=True)
class WriteOffLosses:
    """Write realized losses down from the most junior class up."""


@dataclass(frozen=True, slots=True)
class PayExcess:
    """Sweep interest and principal left over to the residual holder."""


Step = PayFee | PayInterest | PayPrincipal | WriteOffLosses | PayExcess

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
class TriggerStatus:
    """The deal's triggers as tested this period, and the principal rule they chose.

    Percents are exact Decimals (figures over the cut-off or current pool balance x 100); a limit of
    None is a test the deal does not have. failed: a test failed this period; in_effect: principal
    runs as if failed (this period, or a sticky earlier failure). principal_rule: "sequential" before
    the step-down or in effect, else "pro-rata".
    """

    stepdown_reached: bool
    cumulative_loss_percent: Decimal
    cumulative_loss_limit: Decimal | None
    delinquency_60_percent: Decimal
    delinquency_60_limit: Decimal | None
    delinquency_90_percent: Decimal
    delinquency_90_limit: Decimal | None
    failed: bool
    in_effect: bool
    principal_rule: str


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
        """Raise ConservationError unless every cent collected is accounted for."""
        classes = self.classes
        problems = []
        if self.interest_collected_cents != (
            self.fee_paid_cents + self.spread_paid_cents
            + sum(c.interest_paid_cents for c in classes) + self.excess_interest_cents
        ):
            problems.append("interest collected != fee + spread + class interest + excess interest")
        principal_paid = sum(c.principal_paid_cents for c in classes)
        if self.principal_collected_cents != principal_paid + self.excess_principal_cents:
            problems.append("principal collected != class principal + excess principal")
        losses_written_off = sum(c.loss_written_off_cents for c in classes)
        if self.realized_loss_cents != losses_written_off + self.unabsorbed_loss_cents:
            problems.append("realized loss != losses written off + unabsorbed loss")
        if sum(c.balance_begin_cents for c in classes) - sum(
            c.principal_paid_cents + c.loss_written_off_cents for c in classes
        ) != sum(c.balance_end_cents for c in classes):
            problems.append("class balances do not roll forward")
        if self.fee_paid_cents + self.fee_shortfall_cents != self.fee_due_cents:
            problems.append("fee paid + fee shortfall != fee due")
        if self.spread_paid_cents + self.spread_shortfall_cents != self.spread_due_cents:
            problems.append("spread paid + spread shortfall != spread due")
        problems.extend(_class_problems(classes))
        problems.extend(_negative_amounts(self))
        if problems:
            raise ConservationError("; ".join(problems))


def _class_problems(classes: Sequence[ClassResult]) -> list[str]:
    problems = []
    for c in classes:
        if c.interest_paid_cents + c.interest_shortfall_carried_cents != c.interest_due_cents:
            problems.append(f"class {c.name}: interest paid + shortfall != interest due")
        if c.balance_begin_cents - c.principal_paid_cents - c.loss_written_off_cents != c.balance_end_cents:
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


@dataclass(frozen=True, slots=True, kw_only=True)
class _Flow:
    """The waterfall part-way through: what is left to pay and what has been paid."""

    states: tuple[ClassState, ...]
    result: WaterfallResult
    interest_left: int
    principal_left: int
    loss_left: int


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
    structure: the deal's features, triggers, over-collateralisation, reserve and call;
    state: where the deal stands this period (DealState).

    Every cent must end somewhere: a step list that leaves interest,
    principal or loss undistributed (e.g. one without PayExcess) is an
    error, and the result is checked for conservation before it returns.
    """
    if steps is None:
        steps = steps_from_names(structure.steps)
    _validate_inputs(collections=collections, fees=fees, classes=classes)
    _validate_steps(steps)
    flow = _opening_flow(collections=collections, fees=fees, classes=classes)
    for step in steps:
        flow = _apply(flow, step)
    if flow.interest_left or flow.principal_left or flow.loss_left:
        raise WaterfallError(
            f"the steps left interest {flow.interest_left}, principal {flow.principal_left} "
            f"and loss {flow.loss_left} cents undistributed; end with WriteOffLosses and PayExcess"
        )
    flow.result.check_conservation()
    return flow.result


_STEPS_BY_NAME: dict[str, Step] = {
    "servicing_fee": PayFee(fee="servicing"), "spread": PayFee(fee="spread"), "interest": PayInterest(),
    "principal": PayPrincipal(), "losses": WriteOffLosses(), "excess": PayExcess(),
}


def steps_from_names(names: Sequence[str]) -> tuple[Step, ...]:
    """The Step values of a deal's declared step names (trusts.domain.deal_structure.STEP_NAMES)."""
    unknown = [n for n in names if n not in _STEPS_BY_NAME]
    if unknown:
        raise WaterfallError(f"waterfall step {unknown[0]!r} is not a step this waterfall runs")
    return tuple(_STEPS_BY_NAME[n] for n in names)


def _apply(flow: _Flow, step: Step) -> _Flow:
    if isinstance(step, PayFee):
        return _pay_fee(flow, step.fee)
    if isinstance(step, PayInterest):
        return _pay_interest(flow)
    if isinstance(step, PayPrincipal):
        return _pay_principal(flow)
    if isinstance(step, WriteOffLosses):
        return _write_off_losses(flow)
    if isinstance(step, PayExcess):
        return _pay_excess(flow)
    raise WaterfallError(f"unknown waterfall step {step!r}")


def _opening_flow(*, collections: PeriodCollections, fees: Fees, classes: Sequence[ClassState]) -> _Flow:
    # Order the classes once, by seniority then name, so that the result does
    # not depend on the order the caller listed them in.
    states = tuple(sorted(classes, key=lambda s: (s.priority, s.name)))
    fee_due = fees.servicing_fee_cents + fees.fee_shortfall_carried_cents
    spread_due = fees.issuer_spread_cents + fees.spread_shortfall_carried_cents
    opening = tuple(
        ClassResult(
            name=s.name,
            balance_begin_cents=s.balance_cents,
            interest_due_cents=s.interest_shortfall_carried_cents,
            interest_paid_cents=0,
            # Until PayInterest runs, everything carried in is still owed.
            interest_shortfall_carried_cents=s.interest_shortfall_carried_cents,
            principal_paid_cents=0,
            loss_written_off_cents=0,
            balance_end_cents=s.balance_cents,
        )
        for s in states
    )
    result = WaterfallResult(
        interest_collected_cents=collections.interest_collected_cents,
        principal_collected_cents=collections.principal_collected_cents,
        realized_loss_cents=collections.realized_loss_cents,
        fee_due_cents=fee_due,
        spread_due_cents=spread_due,
        fee_paid_cents=0,
        spread_paid_cents=0,
        fee_shortfall_cents=fee_due,
        spread_shortfall_cents=spread_due,
        classes=opening,
        excess_interest_cents=0,
        excess_principal_cents=0,
        unabsorbed_loss_cents=0,
    )
    return _Flow(
        states=states,
        result=result,
        interest_left=collections.interest_collected_cents,
        principal_left=collections.principal_collected_cents,
        loss_left=collections.realized_loss_cents,
    )


def _pay_fee(flow: _Flow, fee: FeeKind) -> _Flow:
    result = flow.result
    due = result.fee_due_cents if fee == "servicing" else result.spread_due_cents
    paid = min(due, flow.interest_left)
    if fee == "servicing":
        result = replace(result, fee_paid_cents=paid, fee_shortfall_cents=due - paid)
    else:
        result = replace(result, spread_paid_cents=paid, spread_shortfall_cents=due - paid)
    return replace(flow, result=result, interest_left=flow.interest_left - paid)


def _pay_interest(flow: _Flow) -> _Flow:
    left = flow.interest_left
    changes: dict[str, dict[str, int]] = {}
    fixed = [s for s in flow.states if s.coupon is not None]
    for group in _priority_groups(fixed):
        dues = [
            monthly_rate_amount(s.balance_cents, cast(Decimal, s.coupon)) + s.interest_shortfall_carried_cents
            for s in group
        ]
        # A short group is paid pro rata by amount due; a part never exceeds its due.
        paying = min(left, sum(dues))
        parts = allocate(paying, dues, keys=[s.name for s in group])
        left -= paying
        for s, due, part in zip(group, dues, parts):
            changes[s.name] = _interest_change(due=due, paid=part)
    net_wac = [s for s in flow.states if s.coupon is None]
    weights = [s.balance_cents for s in net_wac]
    # Net-WAC classes are owed exactly what is left, so they never run short;
    # with no net-WAC balance left, the remainder is excess spread.
    paying = left if sum(weights) > 0 else 0
    for s, part in zip(net_wac, allocate(paying, weights, keys=[s.name for s in net_wac])):
        changes[s.name] = _interest_change(due=part, paid=part)
    left -= paying
    return replace(flow, result=_with_class_changes(flow.result, changes), interest_left=left)


def _interest_change(*, due: int, paid: int) -> dict[str, int]:
    return {
        "interest_due_cents": due,
        "interest_paid_cents": paid,
        "interest_shortfall_carried_cents": due - paid,
    }


def _reduce_balances(
    flow: _Flow, amount: int, groups: Sequence[Sequence[ClassState]], field: str
) -> tuple[WaterfallResult, int]:
    """Take `amount` off class balances group by group, pro rata inside a group.

    Returns the result with `field` and the end balances updated, and what
    was left when every class in the groups stood at zero.
    """
    left = amount
    changes: dict[str, dict[str, int]] = {}
    for group in groups:
        current = [flow.result.for_class(s.name) for s in group]
        balances = [c.balance_end_cents for c in current]
        taking = min(left, sum(balances))
        parts = allocate(taking, balances, keys=[c.name for c in current])
        left -= taking
        for c, part in zip(current, parts):
            changes[c.name] = {field: getattr(c, field) + part, "balance_end_cents": c.balance_end_cents - part}
    return _with_class_changes(flow.result, changes), left


def _pay_principal(flow: _Flow) -> _Flow:
    # One rule covers both: a sequential class is a priority group of one, and
    # each group is paid to zero before the next (so a month's paydown can
    # cross a class boundary); inside a group, pro rata by current balance.
    result, left = _reduce_balances(
        flow, flow.principal_left, _priority_groups(flow.states), "principal_paid_cents"
    )
    return replace(flow, result=result, principal_left=left)


def _write_off_losses(flow: _Flow) -> _Flow:
    # Losses climb from the most junior group (highest priority number) up.
    result, left = _reduce_balances(
        flow, flow.loss_left, list(reversed(_priority_groups(flow.states))), "loss_written_off_cents"
    )
    result = replace(result, unabsorbed_loss_cents=result.unabsorbed_loss_cents + left)
    return replace(flow, result=result, loss_left=0)


def _pay_excess(flow: _Flow) -> _Flow:
    result = replace(
        flow.result,
        excess_interest_cents=flow.result.excess_interest_cents + flow.interest_left,
        excess_principal_cents=flow.result.excess_principal_cents + flow.principal_left,
    )
    return replace(flow, result=result, interest_left=0, principal_left=0)


def _priority_groups(states: Sequence[ClassState]) -> list[list[ClassState]]:
    """Classes grouped by priority, most senior group first, names ascending inside."""
    ordered = sorted(states, key=lambda s: (s.priority, s.name))
    return [list(group) for _, group in groupby(ordered, key=lambda s: s.priority)]


def _with_class_changes(result: WaterfallResult, changes: Mapping[str, Mapping[str, Any]]) -> WaterfallResult:
    classes = tuple(replace(c, **changes[c.name]) if c.name in changes else c for c in result.classes)
    return replace(result, classes=classes)


# ------------------------------------------------------------- validation


def _validate_inputs(*, collections: PeriodCollections, fees: Fees, classes: Sequence[ClassState]) -> None:
    for record in (collections, fees):
        for name in record.__slots__:
            _require_cents(f"{type(record).__name__}.{name}", getattr(record, name))
    names = [s.name for s in classes]
    if len(set(names)) != len(names):
        raise WaterfallError(f"class names must be unique: {names}")
    for state in classes:
        _validate_class(state)
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
        if not isinstance(step, (PayFee, PayInterest, PayPrincipal, WriteOffLosses, PayExcess)):
            raise WaterfallError(f"unknown waterfall step {step!r}")
        if isinstance(step, PayFee) and step.fee not in ("servicing", "spread"):
            raise WaterfallError(f"PayFee.fee must be 'servicing' or 'spread', not {step.fee!r}")
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
    """The classes as they start the next period: end balances and shortfalls carried in."""
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
