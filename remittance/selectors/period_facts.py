"""Reading a period's facts from the log's read models, for the close to compute on.

The window of a period: collection lines of the trust's pool loans dated on
or before the period's last day and recorded at or before the position the
close reads up to, less what the previous close already took. So money that
arrives, or is reversed, after a period closed belongs to the next open
period and is reported there as a prior-period item; nothing is counted
twice and nothing is dropped. A line is the trust's whose pool held the loan
on the date of the money (trusts.models.PoolLoan's interval convention); a
returned payment's date of the money is the original's received_on, so the
trust that received it takes the return back, not the loan's next owner.

The deal's structure (trusts.selectors.deal_structure) gives each class its features; what the
previous close left of the deal's own state (the trustee fee unpaid, the reserve account, the
cumulative loss, a sticky trigger failure) is read from its PeriodClosed (`carried_into`); the
period's standing (its number, the cut-off balance, the delinquent balances its triggers test, the
clean-up call) is `period_standing`'s. The month-end reads the same for a group of trusts at once
(remittance.selectors.group_facts); verify_ledger re-derives every close through this module.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import F, Q, Sum

from ledger.models import Event, LogPosition, Posting
from remittance.domain.statement_figures import delinquency_row_of, delinquent_balances
from remittance.domain.trust_calendar import Period, first_collection_period, period_number
from remittance.domain.close_figures import Carried, LoanFacts, PeriodStanding
from remittance.events import PeriodClosed
from remittance.models import ClassPeriod, PeriodResult
from remittance.domain.reconciliation import is_cash
from remittance.domain.waterfall import ClassState
from servicing.domain import accounts
from servicing.domain.delinquency_status import mba_bucket
from servicing.events import LoanChargedOff, LoanLiquidated, LoanPaidOff, PaymentReturned
from servicing.selectors import positions_as_of, terms_in_force
from servicing.models import CLOSED_STATUSES, CollectionLine, Loan, LoanPosition, loan_stream
from trusts.events import PoolLoanRemoved, RemovalProceedsTrued
from trusts.models import PoolLoan, SecurityClass, Trust, trust_stream
from trusts.domain.deal_structure import DealStructure
from trusts.selectors import cleanup_call_date, deal_structure, pool_members

# The events that close a loan: once one is recorded, the loan is not advanced on.
CLOSING_EVENTS = (LoanPaidOff.event_type, LoanLiquidated.event_type, LoanChargedOff.event_type)
AMOUNTS = ("interest_cents", "scheduled_principal_cents", "curtailment_cents", "payoff_principal_cents",
           "liquidation_principal_cents", "realized_loss_cents")
CASH_AMOUNTS = tuple(k for k in AMOUNTS if is_cash(k))  # a prior-period item is cash: never the realized loss


@dataclass(frozen=True, slots=True)
class Window:
    """Which collections a close takes: dated up to `last_day`, recorded up to `through_position`,
    less those the previous close took (dated up to `previous_last_day`, recorded up to `previous_through`)."""

    last_day: date
    through_position: int
    previous_last_day: date
    previous_through: int

    def lines(self) -> Q:
        return Q(effective_date__lte=self.last_day, event_position__lte=self.through_position) & ~Q(
            effective_date__lte=self.previous_last_day, event_position__lte=self.previous_through)

    def events(self) -> Q:
        return Q(effective_date__lte=self.last_day, position__lte=self.through_position) & ~Q(
            effective_date__lte=self.previous_last_day, position__lte=self.previous_through)


def log_head() -> int:
    """The last committed position: every event at or before it is visible and final."""
    return LogPosition.objects.values_list("last_position", flat=True).get()


def window_for(trust: Trust, period: Period, through_position: int) -> Window:
    previous = PeriodResult.objects.filter(trust=trust, period=str(period.previous())).first()
    if previous is None:
        # The first close takes everything since the cut-off.
        return Window(period.last_day, through_position, trust.cutoff_date, through_position)
    return Window(period.last_day, through_position, period.previous().last_day, previous.through_position)


def loan_facts(trust: Trust, period: Period, window: Window, *, scheduled: bool) -> list[LoanFacts]:
    """Each pool loan's terms, balances and collections in the window, as the log stood at its end.

    The close calls it on the log's head; verify_ledger calls it again later on the position a
    close read up to, and must get the same facts: so every read here is bounded by that position.
    """
    start = period.first_day
    members, late = pool_members(trust, through_position=window.through_position)
    sums = window_sums(trust, window, late_removed=late)
    removals = removal_proceeds(trust, window)
    # Loans removed before the period only matter if late money of theirs is in the window.
    pool = [m for m in members if m.transferred_on <= period.last_day
            and (m.removed_on is None or m.removed_on >= start or m.loan_id in sums or m.loan_id in removals)]
    numbers = [m.loan_id for m in pool]
    terms = {loan.pk: loan for loan in Loan.objects.filter(pk__in=numbers)}
    changed = terms_in_force(numbers, due_by=period.last_day, through_position=window.through_position)
    begin = _balances(numbers, start - timedelta(days=1), window.through_position)
    end = _balances(numbers, period.last_day, window.through_position)
    closed = _closed_by(numbers, window.through_position) if scheduled else set()
    facts = []
    for member in pool:
        number, loan = member.loan_id, terms[member.loan_id]
        in_pool_at_start = member.covers(start)
        amounts = dict(sums.get(number, {}))
        for key, cents in removals.get(number, {}).items():
            amounts[key] = amounts.get(key, 0) + cents
        facts.append(LoanFacts(
            loan_number=number, balance_begin_cents=begin.get(number, 0) if in_pool_at_start else 0,
            # A loan removed after the period's end was still in the pool at its end (removed, recorded
            # before this close, in the next open period): its balance counts, as its proceeds count next month.
            balance_end_cents=end.get(number, 0) if member.covers(period.last_day + timedelta(days=1)) else 0,
            # An ARM's rate and P&I are those in force for the period's installment (servicing.selectors).
            note_rate=changed.get(number, (loan.note_rate,))[0], servicing_fee_rate=loan.servicing_fee_rate,
            payment_pi_cents=changed.get(number, (0, loan.payment_pi_cents))[1], in_pool_at_start=in_pool_at_start,
            advancing=scheduled and number not in closed,
            repurchase_principal_cents=amounts.get("repurchase_principal_cents", 0),
            repurchase_interest_cents=amounts.get("repurchase_interest_cents", 0),
            prior_period_cents=amounts.get("prior_period_cents", 0),
            **{k: amounts.get(k, 0) for k in AMOUNTS},
        ))
    return facts


def _closed_by(numbers: list[str], through_position: int) -> set[str]:
    """Loans (of these) paid off, liquidated or charged off by an event at or before `through_position`:
    a closed loan is not advanced on."""
    closed_now = list(LoanPosition.objects.filter(loan_id__in=numbers, status__in=CLOSED_STATUSES)
                      .values_list("loan_id", flat=True))
    streams = Event.objects.filter(stream__in=[loan_stream(n) for n in closed_now], event_type__in=CLOSING_EVENTS,
                                   position__lte=through_position).values_list("stream", flat=True)
    return {stream.split(":", 1)[1] for stream in streams}


def _balances(numbers: list[str], as_of: date, through_position: int) -> dict[str, int]:
    """Unpaid principal of each loan at the end of `as_of`, from its ledger account, as the log stood at
    `through_position`: a payment committed while the close runs is outside its balances as it is outside
    its collections (else the pool's end balance would count principal its collections leave to next month)."""
    by_account = {accounts.principal(n): n for n in numbers}
    rows = (Posting.objects.filter(account__in=list(by_account), effective_date__lte=as_of,
                                   event_id__lte=through_position)
            .values("account").annotate(total=Sum("amount_cents")).values_list("account", "total"))
    return {by_account[account]: total for account, total in rows}


def window_sums(trust: Trust, window: Window, *, late_removed: Sequence[str] = ()) -> dict[str, dict[str, int]]:
    """Each pool loan's collections in the window, by kind, with the part that is a prior-period item.

    A line belongs to the trust whose membership range (transferred_on, removed_on] contains the
    date of the money (PoolLoan's convention): its effective date, except for a returned payment,
    which belongs to the trust that received the payment (the original's received_on), whoever
    owns the loan when the bank returns it. That trust nets the return in its next open period.
    `late_removed`: loans whose removal was recorded after the window's end, still in the pool for it.
    """
    returns = _returns_in_window(window)
    # One filter() so the pool join, its dates and the window apply to the same membership row.
    lines = CollectionLine.objects.filter(
        window.lines(),
        Q(loan__pool_memberships__removed_on__isnull=True)
        | Q(effective_date__lte=F("loan__pool_memberships__removed_on")) | Q(loan_id__in=list(late_removed)),
        loan__pool_memberships__trust=trust,
        effective_date__gt=F("loan__pool_memberships__transferred_on"),
    ).exclude(event_position__in=list(returns))
    prior = Q(effective_date__lte=window.previous_last_day)
    rows = lines.values("loan_id").annotate(
        **{f"s_{k}": Sum(k) for k in AMOUNTS},
        **{f"p_{k}": Sum(k, filter=prior) for k in CASH_AMOUNTS},
    )
    sums = {}
    for row in rows:
        amounts = {k: row[f"s_{k}"] or 0 for k in AMOUNTS}
        amounts["prior_period_cents"] = sum(row[f"p_{k}"] or 0 for k in CASH_AMOUNTS)
        sums[row["loan_id"]] = amounts
    _add_returns(sums, trust, window, returns)
    return sums


@dataclass(frozen=True, slots=True)
class _Return:
    """A PaymentReturned in a window: its loan, when it was returned, and the payment it takes back."""

    loan_number: str
    returned_on: date
    received_on: date
    original_position: int


def _returns_in_window(window: Window) -> dict[int, _Return]:
    """Every returned payment in the window (any trust's), by log position; returns are few."""
    rows = Event.objects.filter(window.events(), event_type=PaymentReturned.event_type).values_list(
        "position", "effective_date", "payload")
    returns = {}
    for position, returned_on, payload in rows:
        fact = PaymentReturned.from_payload(payload)
        returns[position] = _Return(fact.loan_number, returned_on, fact.received_on, fact.returned_event_position)
    return returns


def _add_returns(sums: dict[str, dict[str, int]], trust: Trust, window: Window,
                 returns: dict[int, _Return]) -> None:
    """Add to `sums` the returns of payments this trust received, as the window's items.

    A return of a payment a closed period already passed on (or one recorded after its own
    period closed) is a prior-period item: the holders were paid that money, and this
    remittance takes it back.
    """
    loans = {r.loan_number for r in returns.values()}
    if not loans:
        return
    members = [m for m in PoolLoan.objects.filter(trust=trust, loan_id__in=loans)]
    ours = [position for position, r in returns.items()
            if any(m.loan_id == r.loan_number and m.covers(r.received_on) for m in members)]
    for line in CollectionLine.objects.filter(event_position__in=ours).order_by("event_position"):
        returned = returns[line.event_position]
        amounts = sums.setdefault(line.loan_id, {k: 0 for k in (*AMOUNTS, "prior_period_cents")})
        for key in AMOUNTS:
            amounts[key] += getattr(line, key)
        taken_before = (returned.received_on <= window.previous_last_day
                        and returned.original_position <= window.previous_through)
        if taken_before or returned.returned_on <= window.previous_last_day:
            amounts["prior_period_cents"] += sum(getattr(line, k) for k in CASH_AMOUNTS)


def removal_proceeds(trust: Trust, window: Window) -> dict[str, dict[str, int]]:
    """Repurchase and buyout proceeds paid into the trust in the window, by loan.

    The removal's proceeds (PoolLoanRemoved) and what its buyer paid on top when a payment the
    trust received before the removal was returned after it (RemovalProceedsTrued, trusts.services.pool),
    each in the window it is recorded in: the true-up nets with the return it was recorded with.
    """
    removed: dict[str, dict[str, int]] = {}
    rows = Event.objects.filter(window.events(), stream=trust_stream(trust.code),
                                event_type__in=(PoolLoanRemoved.event_type, RemovalProceedsTrued.event_type))
    for event_type, effective_date, payload in rows.values_list("event_type", "effective_date", "payload"):
        add_removal_proceeds(removed, event_type, payload, prior_period=effective_date <= window.previous_last_day)
    return removed


def add_removal_proceeds(removed: dict[str, dict[str, int]], event_type: str, payload: dict, *,
                         prior_period: bool) -> None:
    """Add one removal's proceeds (PoolLoanRemoved) or its true-up (RemovalProceedsTrued) to `removed`, by loan.

    prior_period: the event is dated before the window's period, so its money is also a prior-period item.
    """
    if event_type == PoolLoanRemoved.event_type:
        fact = PoolLoanRemoved.from_payload(payload)
        loan, principal, interest = fact.loan_number, fact.proceeds_principal_cents, fact.proceeds_interest_cents
    else:
        trued = RemovalProceedsTrued.from_payload(payload)
        loan, principal, interest = trued.loan_number, trued.principal_cents, trued.interest_cents
    amounts = removed.setdefault(loan, {
        "repurchase_principal_cents": 0, "repurchase_interest_cents": 0, "prior_period_cents": 0})
    amounts["repurchase_principal_cents"] += principal
    amounts["repurchase_interest_cents"] += interest
    if prior_period:
        amounts["prior_period_cents"] += principal + interest


def carried_into(trust: Trust, period: Period, structure: DealStructure | None = None) -> Carried:
    """The classes, unpaid fees, outstanding advances and unrecovered returns the previous close left,
    and the deal's own state (`carried_from`). structure: the trust's, when the caller has read it."""
    structure = deal_structure(trust) if structure is None else structure
    classes = list(SecurityClass.objects.filter(trust=trust).order_by("priority", "name"))
    previous = PeriodResult.objects.filter(trust=trust, period=str(period.previous())).first()
    rows = {} if previous is None else {
        row.security_class_id: row for row in ClassPeriod.objects.filter(security_class__trust=trust,
                                                                         period=previous.period)}
    return carried_from(classes, rows, previous.period_closed if previous else None, structure)


def carried_from(classes: Sequence[SecurityClass], rows: Mapping[int, ClassPeriod], previous: PeriodClosed | None,
                 structure: DealStructure) -> Carried:
    """What a close starts from: each class (its features from the structure) as the previous close's ClassPeriod
    rows left it (its original face before the first), and the previous PeriodClosed's carried figures.

    Before the first close the reserve account holds its initial deposit (made at that close), nothing else.
    """
    states = tuple(
        ClassState(name=c.name, coupon=c.coupon, principal_rule=c.principal_rule, priority=c.priority,
                   balance_cents=rows[c.pk].balance_end_cents if c.pk in rows else c.original_face_cents,
                   interest_shortfall_carried_cents=rows[c.pk].interest_shortfall_cents if c.pk in rows else 0,
                   features=structure.features_of(c.name))
        for c in classes
    )
    if previous is None:
        initial = structure.reserve.initial_deposit_cents if structure.reserve is not None else 0
        return Carried(classes=states, reserve_balance_cents=initial)
    return Carried(classes=states, fee_shortfall_cents=previous.fee_shortfall_cents,
                   spread_shortfall_cents=previous.spread_shortfall_cents,
                   advances_outstanding=dict(previous.advances_outstanding),
                   returns_outstanding=previous.returns_outstanding,
                   trustee_fee_shortfall_cents=previous.trustee_fee_shortfall_cents,
                   reserve_balance_cents=previous.reserve_balance_end_cents,
                   cumulative_loss_cents=previous.cumulative_loss_cents, trigger_failed=previous.trigger_failed)


def period_standing(trust: Trust, period: Period, through_position: int, *, structure: DealStructure,
                    loans: Sequence[LoanFacts], cutoff_balance_cents: int) -> PeriodStanding:
    """The period's standing for the waterfall: its number from the trust's first period, the pool's cut-off
    balance, its 60+/90+ delinquent balances at the end (read only when the deal has a delinquency trigger:
    a standard deal's close reads nothing more) and whether the clean-up call was exercised in the period."""
    delinquent = (0, 0)
    if tests_delinquency(structure):
        balances = end_balances(loans)
        positions = positions_as_of(sorted(balances), day=period.last_day, through_position=through_position)
        delinquent = delinquent_at_end(balances, period, positions)
    return standing_of(trust, period, through_position, structure=structure, delinquent=delinquent,
                       cutoff_balance_cents=cutoff_balance_cents)


def standing_of(trust: Trust, period: Period, through_position: int, *, structure: DealStructure,
                delinquent: tuple[int, int], cutoff_balance_cents: int) -> PeriodStanding:
    """The standing from its delinquent balances (60+, 90+), however they were read: both readers build it here."""
    # A deal without a clean-up call cannot have exercised one: nothing to read.
    called = (cleanup_call_date(trust, through_position=through_position)
              if structure.cleanup_call_percent is not None else None)
    return PeriodStanding(
        period_number=period_number(first_collection_period(trust.first_payment_date), period),
        cutoff_balance_cents=cutoff_balance_cents, delinquent_60_cents=delinquent[0],
        delinquent_90_cents=delinquent[1], call_exercised=call_exercised_in(called, period),
    )


def end_balances(loans: Sequence[LoanFacts]) -> dict[str, int]:
    """Loan number -> balance at the period's end, of the loans that still have one."""
    return {f.loan_number: f.balance_end_cents for f in loans if f.balance_end_cents > 0}


def tests_delinquency(structure: DealStructure) -> bool:
    """Whether the deal's triggers test delinquency (so its closes read the loans' positions at the period's end)."""
    t = structure.triggers
    return t is not None and (t.delinquency_60_percent is not None or t.delinquency_90_percent is not None)


def call_exercised_in(called_on: date | None, period: Period) -> bool:
    """Whether a clean-up call exercised on `called_on` (None: not exercised) falls in the period."""
    return called_on is not None and period.first_day <= called_on <= period.last_day


def delinquent_at_end(balances: Mapping[str, int], period: Period,
                      positions: Mapping[str, LoanPosition]) -> tuple[int, int]:
    """(60+, 90+) delinquent balance at the period's end of loans (number -> end balance), given their positions
    then (servicing.selectors.positions_as_of: their events dated by the period's end and recorded by the
    close's position), counted as the distribution statement counts them (foreclosure, REO and bankruptcy
    as delinquent)."""
    rows = []
    for number, cents in balances.items():
        position = positions.get(number)
        if position is None:
            continue
        row = delinquency_row_of(status=position.status,
                                 bucket=mba_bucket(next_due_date=position.next_due_date, as_of=period.last_day),
                                 bankruptcy_chapter=position.bankruptcy_chapter)
        rows.append((row, cents))
    return delinquent_balances(rows)


def pool_original_cents(trust: Trust) -> int:
    return PoolLoan.objects.filter(trust=trust).aggregate(total=Sum("cutoff_balance_cents"))["total"] or 0


def coupon_text(coupon: Decimal | None) -> str:
    return "net-wac" if coupon is None else f"{coupon.normalize():f}"
