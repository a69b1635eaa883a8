"""The figures of one trust's period close, from plain facts: pure, to the cent.

The closing service gathers the facts (each pool loan's collections in the
period's window, its balances and terms, the classes as the last close left
them, the holders of record) and hands them here; `close_figures` returns
everything the close will record: the fee and spread, the waterfall's
result, each holder's payment and the reconciliation. Nothing here reads or
writes the database, so every rule is tested in milliseconds.

Rules, in the business's words:
- Actual/actual: bondholders are paid from what was collected. Servicer's
  fee = each loan's beginning balance * its fee rate / 12, on the loans
  whose interest was collected; issuer's spread = the pool's beginning
  balance * the spread rate / 12; both come out of interest first.
- Scheduled/scheduled: the servicer advances scheduled interest and
  principal that borrowers did not pay, and takes its advances back first
  from later payments and liquidation proceeds (remittance.domain.advancing).
- Each class's interest and principal are split among the holders of
  record pro rata by original face held. Bonds not placed with any holder
  keep their share in the trust ("retained"), never given to the others.
- Returned payments: a payment the bank returns after its period was paid
  out is netted against the next close of the trust that received it, so a
  period's net interest or principal can be negative. The servicer recovers
  that returned-item shortfall from the next collections before it remits
  anything (`recover_returns`), so a close is never refused for it: the part
  the period's collections cannot cover is carried to the next close
  (`returns_outstanding`, interest and principal apart) and recovered there
  first, each part from its own pot before anything is paid out of that pot.
  Order: returned interest from the period's interest, before the fee, the
  spread or any class interest; returned principal from its principal,
  before any class principal. Like everything else here, neither pot covers
  the other: returned interest taken from principal would hold principal back
  from the classes while the pool paid down (classes owing more than the
  pool); returned principal taken from interest would have the holders'
  interest pay for principal they keep (classes for good below the pool, the
  residual holder gaining it). So the classes stand at the pool less the
  returned principal still carried, and meet it again once it is recovered.
  Scheduled/scheduled: the installment a return leaves unpaid is advanced by
  the advancing rules like any other; the returned amount is recovered from
  what they pass to investors, the same way (`_scheduled_amounts`).
- Reconciliation: collected + advanced - recovered - returns carried in +
  returns carried out (+ the reserve's draw and release) = fee + spread +
  trustee fee + paid to holders + excess + retained (+ the reserve's deposit
  and its release to the residual holder), to the cent
  (remittance.domain.reconciliation.reconcile, the identity's one home);
  checked before anything is returned.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from ledger.domain.money import dollars_grouped, monthly_rate_amount
from remittance.domain.advancing import AdvancingResult
from remittance.domain.reconciliation import REALIZED_LOSS, Reconciliation, cash_collected_cents, is_cash, reconcile
from remittance.domain.waterfall import (
    ClassState, DealState, Fees, PeriodCollections, WaterfallResult, run_waterfall, split_among_holders,
)
from trusts.domain.deal_structure import STANDARD_STRUCTURE, DealStructure

UNPLACED = "(unplaced)"  # the split's key for bonds no holder holds; sorts before holder codes
COLLECTION_KINDS = ("interest", "repurchase_interest", "scheduled_principal", "curtailment", "payoff_principal",
                    "repurchase_principal", "liquidation_principal", "realized_loss")
INTEREST_KINDS = ("interest", "repurchase_interest")
REPURCHASE_KINDS = ("repurchase_interest", "repurchase_principal")  # paid into the trust, not the servicer


class CloseRefused(ValueError):
    """The facts cannot be closed as they stand (the message says why)."""


class ReconciliationError(AssertionError):
    """A close's figures do not account for every cent."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LoanFacts:
    """One pool loan in one period: its terms, balances and what its window collected."""

    loan_number: str
    balance_begin_cents: int
    balance_end_cents: int
    note_rate: Decimal
    servicing_fee_rate: Decimal
    payment_pi_cents: int
    in_pool_at_start: bool = True
    advancing: bool = False  # owed an installment this period (scheduled/scheduled only)
    interest_cents: int = 0
    scheduled_principal_cents: int = 0
    curtailment_cents: int = 0
    payoff_principal_cents: int = 0
    repurchase_interest_cents: int = 0
    repurchase_principal_cents: int = 0
    liquidation_principal_cents: int = 0
    realized_loss_cents: int = 0
    # The part of the above dated in an earlier, already closed period.
    prior_period_cents: int = 0

    @property
    def principal_cents(self) -> int:
        return (self.scheduled_principal_cents + self.curtailment_cents + self.payoff_principal_cents
                + self.repurchase_principal_cents + self.liquidation_principal_cents)


@dataclass(frozen=True, slots=True, kw_only=True)
class Carried:
    """What the previous close left to this one: class states, unpaid fees, advances."""

    classes: tuple[ClassState, ...]
    fee_shortfall_cents: int = 0
    spread_shortfall_cents: int = 0
    # loan number -> (interest advanced, principal advanced), not yet recovered
    advances_outstanding: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    # Returned payments the previous closes could not recover yet: (interest, principal).
    returns_outstanding: tuple[int, int] = (0, 0)
    # The deal's own state (trusts.domain.deal_structure): the trustee fee left unpaid, the reserve
    # account's balance (the initial deposit before the first close), realized losses of every
    # earlier period, a sticky trigger failed earlier.
    trustee_fee_shortfall_cents: int = 0
    reserve_balance_cents: int = 0
    cumulative_loss_cents: int = 0
    trigger_failed: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class PeriodStanding:
    """What a period's close knows of the deal besides its loans' money (waterfall.DealState's inputs).

    period_number: 1 for the first distribution; cutoff_balance_cents: the pool's at its cut-off;
    delinquent_60/90: the pool's balance 60+/90+ days delinquent at the period's end;
    call_exercised: the clean-up call was exercised in the period.
    """

    period_number: int = 1
    cutoff_balance_cents: int = 0
    delinquent_60_cents: int = 0
    delinquent_90_cents: int = 0
    call_exercised: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ReturnsRecovery:
    """A period's cash after the returned-item shortfall is recovered from it (`recover_returns`).

    new_cents: the period's own returns its collections did not absorb (its net negative interest
    and principal); recovered_cents: what the period's collections paid back of that and of the
    carried-in shortfall; outstanding: what is still owed, (interest, principal), carried on.
    recovered + outstanding == carried in + new; interest + principal + recovered == the period's
    positive interest and principal.
    """

    interest_cents: int
    principal_cents: int
    carried_in: tuple[int, int] = (0, 0)
    new_cents: int = 0
    recovered_cents: int = 0
    outstanding: tuple[int, int] = (0, 0)

    @property
    def carried_in_cents(self) -> int:
        return sum(self.carried_in)

    @property
    def outstanding_cents(self) -> int:
        return sum(self.outstanding)


def recover_returns(*, interest_cents: int, principal_cents: int,
                    carried_in: tuple[int, int] = (0, 0)) -> ReturnsRecovery:
    """Recover returned payments (carried in, and this period's net negatives) from the period's cash.

    Returned interest comes from interest, returned principal from principal (never one from the
    other: see the module docstring). What cannot be recovered is carried out; what is left goes
    to the waterfall.
    """
    if min(carried_in) < 0:
        raise CloseRefused(f"returns carried in cannot be negative: {carried_in}")
    interest = _recover_from_pot(interest_cents, carried_in[0])
    principal = _recover_from_pot(principal_cents, carried_in[1])
    return ReturnsRecovery(
        interest_cents=interest[0], principal_cents=principal[0], carried_in=(carried_in[0], carried_in[1]),
        new_cents=max(0, -interest_cents) + max(0, -principal_cents), recovered_cents=interest[1] + principal[1],
        outstanding=(interest[2], principal[2]),
    )


def _recover_from_pot(net_cents: int, carried_cents: int) -> tuple[int, int, int]:
    """(left to pay out, recovered from the pot's cash, still owed) for one pot (interest or principal)."""
    cash, owed = max(0, net_cents), carried_cents + max(0, -net_cents)
    recovered = min(cash, owed)
    return cash - recovered, recovered, owed - recovered


@dataclass(frozen=True, slots=True, kw_only=True)
class HolderPayment:
    holder_code: str
    class_name: str
    face_held_cents: int
    interest_cents: int
    principal_cents: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CloseFigures:
    """Everything one close records, reconciled."""

    collected: dict[str, int]           # by kind (COLLECTION_KINDS), net of reversals
    prior_period_cents: int
    advanced_cents: int
    recovered_cents: int
    advances_outstanding: dict[str, tuple[int, int]]
    servicing_fee_due_cents: int        # this period's fee, before any carried shortfall
    issuer_spread_due_cents: int
    pool_balance_begin_cents: int
    pool_balance_end_cents: int
    waterfall: WaterfallResult
    payments: tuple[HolderPayment, ...]
    retained_cents: int                 # the unplaced bonds' share, kept in the trust
    returns: ReturnsRecovery | None = None  # returned payments recovered and carried (None: none at all)
    # The deal's structure (trusts.domain.deal_structure); the standard deal's are zero/False.
    period_number: int = 1
    trustee_fee_due_cents: int = 0      # this period's trustee fee, before any carried shortfall
    reserve_funded_cents: int = 0       # the reserve's initial deposit, made at the deal's first close
    cumulative_loss_cents: int = 0      # realized losses through this period
    trigger_failed: bool = False        # a sticky trigger has failed (this period or earlier): carried on

    @property
    def returns_carried_in_cents(self) -> int:
        return self.returns.carried_in_cents if self.returns else 0

    @property
    def returns_outstanding_cents(self) -> int:
        return self.returns.outstanding_cents if self.returns else 0

    @property
    def cash_in_cents(self) -> int:
        """What the period brings to distribute: collections plus advances less recoveries."""
        return self.waterfall.interest_collected_cents + self.waterfall.principal_collected_cents

    @property
    def servicer_remits_cents(self) -> int:
        """The cash the servicer moves from its custodial account: collections less repurchase proceeds,
        less the returned-item shortfall it recovers (carried in), plus what it leaves short (carried out).

        A shortfall carried out stays in the custodial account (the bank took the money back from it);
        recovering it later is keeping that much of the later collections there. Negative when the
        trust pays the custodial account back from repurchase proceeds it holds.
        """
        collections = cash_collected_cents(self.collected) - sum(self.collected[k] for k in REPURCHASE_KINDS)
        return collections - self.returns_carried_in_cents + self.returns_outstanding_cents

    @property
    def paid_to_holders_cents(self) -> int:
        return sum(p.interest_cents + p.principal_cents for p in self.payments)

    @property
    def excess_cents(self) -> int:
        return self.waterfall.excess_interest_cents + self.waterfall.excess_principal_cents

    def paid_by_class(self) -> dict[str, tuple[int, int]]:
        """(interest, principal) paid to each class's holders, in one pass over the payments."""
        paid: dict[str, tuple[int, int]] = {}
        for p in self.payments:
            interest, principal = paid.get(p.class_name, (0, 0))
            paid[p.class_name] = interest + p.interest_cents, principal + p.principal_cents
        return paid

    def reconciliation(self) -> Reconciliation:
        """The period's identity (remittance.domain.reconciliation.reconcile) on these figures."""
        w = self.waterfall
        return reconcile(
            collected=self.collected, advanced_cents=self.advanced_cents, recovered_cents=self.recovered_cents,
            returns_carried_in_cents=self.returns_carried_in_cents,
            returns_carried_out_cents=self.returns_outstanding_cents, distributed_cents=self.cash_in_cents,
            fee_paid_cents=w.fee_paid_cents, spread_paid_cents=w.spread_paid_cents,
            paid_to_holders_cents=self.paid_to_holders_cents, excess_cents=self.excess_cents,
            retained_cents=self.retained_cents, trustee_fee_paid_cents=w.trustee_fee_paid_cents,
            reserve_draw_cents=w.reserve_draw_cents, reserve_deposit_cents=w.reserve_deposit_cents,
            reserve_released_cents=w.reserve_released_cents,
        )

    def check_reconciliation(self) -> None:
        """Raise ReconciliationError unless every cent in is accounted for out."""
        w = self.waterfall
        w.check_conservation()
        problems = list(self.reconciliation().problems)
        paid = self.paid_by_class()
        for result in w.classes:
            held = paid.get(result.name, (0, 0))
            unplaced = (result.interest_paid_cents - held[0]) + (result.principal_paid_cents - held[1])
            if unplaced < 0:
                problems.append(f"class {result.name}: holders were paid more than the class")
        if problems:
            raise ReconciliationError("; ".join(problems))


def close_figures(*, loans: Sequence[LoanFacts], carried: Carried, issuer_spread_rate: Decimal,
                  scheduled: bool, original_faces: Mapping[str, int],
                  holders: Mapping[str, Mapping[str, int]], structure: DealStructure = STANDARD_STRUCTURE,
                  standing: PeriodStanding = PeriodStanding()) -> CloseFigures:
    """The close of one period: fee, spread, waterfall, holder payments, reconciled.

    original_faces: class name -> original face; holders: class name ->
    {holder code: original face held on the record date}. structure: the deal's declared steps and
    features; standing: the period's number, delinquency and call (the waterfall's DealState with
    the pool's balances and what `carried` holds).
    """
    _check_unique(loans)
    collected = _collected(loans)
    begin = sum(f.balance_begin_cents for f in loans if f.in_pool_at_start)
    if scheduled:
        interest, principal, loss, advancing = _scheduled_amounts(loans, carried)
    else:
        interest = interest_collected_cents(collected)
        principal, loss = principal_collected_cents(collected), collected[REALIZED_LOSS]
        advancing = None
    _require_not_negative(loss=loss)
    returns = recover_returns(interest_cents=interest, principal_cents=principal,
                              carried_in=carried.returns_outstanding)
    interest, principal = returns.interest_cents, returns.principal_cents
    interest_by_loan = _interest_by_loan(loans, advancing)
    trustee_fee = monthly_rate_amount(begin, structure.trustee_fee_rate)
    fee = sum(monthly_rate_amount(f.balance_begin_cents, f.servicing_fee_rate)
              for f in loans if f.in_pool_at_start and interest_by_loan.get(f.loan_number, 0) > 0)
    spread = monthly_rate_amount(begin, issuer_spread_rate)
    result = run_waterfall(
        collections=PeriodCollections(interest_collected_cents=interest, principal_collected_cents=principal,
                                      realized_loss_cents=loss),
        fees=Fees(servicing_fee_cents=fee, issuer_spread_cents=spread,
                  fee_shortfall_carried_cents=carried.fee_shortfall_cents,
                  spread_shortfall_carried_cents=carried.spread_shortfall_cents,
                  trustee_fee_cents=trustee_fee,
                  trustee_fee_shortfall_carried_cents=carried.trustee_fee_shortfall_cents),
        classes=carried.classes, structure=structure,
        state=DealState(
            period_number=standing.period_number, pool_balance_begin_cents=begin,
            pool_balance_end_cents=sum(f.balance_end_cents for f in loans),
            cutoff_balance_cents=standing.cutoff_balance_cents,
            cumulative_loss_before_cents=carried.cumulative_loss_cents,
            delinquent_60_cents=standing.delinquent_60_cents, delinquent_90_cents=standing.delinquent_90_cents,
            reserve_balance_cents=carried.reserve_balance_cents, trigger_failed=carried.trigger_failed,
            call_exercised=standing.call_exercised,
        ),
    )
    payments, retained = _holder_payments(result, original_faces, holders)
    figures = CloseFigures(
        collected=collected, prior_period_cents=sum(f.prior_period_cents for f in loans),
        advanced_cents=advancing.advanced_cents if advancing else 0,
        recovered_cents=advancing.recovered_cents if advancing else 0,
        advances_outstanding=_outstanding(advancing),
        servicing_fee_due_cents=fee, issuer_spread_due_cents=spread, pool_balance_begin_cents=begin,
        pool_balance_end_cents=sum(f.balance_end_cents for f in loans),
        waterfall=result, payments=payments, retained_cents=retained, returns=returns,
        period_number=standing.period_number, trustee_fee_due_cents=trustee_fee,
        reserve_funded_cents=(structure.reserve.initial_deposit_cents
                              if structure.reserve is not None and standing.period_number == 1 else 0),
        cumulative_loss_cents=carried.cumulative_loss_cents + result.realized_loss_cents,
        trigger_failed=carried.trigger_failed or _sticky_failure(structure, result),
    )
    figures.check_reconciliation()
    return figures


def _sticky_failure(structure: DealStructure, result: WaterfallResult) -> bool:
    """A trigger failed this period on a deal whose triggers are sticky: principal stays sequential for good."""
    return (structure.triggers is not None and structure.triggers.sticky and result.triggers is not None
            and result.triggers.failed)


def _check_unique(loans: Sequence[LoanFacts]) -> None:
    numbers = [f.loan_number for f in loans]
    if len(set(numbers)) != len(numbers):
        raise CloseRefused("a loan appears twice in the period's facts")


def _collected(loans: Sequence[LoanFacts]) -> dict[str, int]:
    return {kind: sum(getattr(f, f"{kind}_cents") for f in loans) for kind in COLLECTION_KINDS}


def interest_collected_cents(collected: Mapping[str, int]) -> int:
    """The interest kinds of a period's collections (the borrowers' and the repurchasers')."""
    return sum(collected[k] for k in INTEREST_KINDS)


def principal_collected_cents(collected: Mapping[str, int]) -> int:
    """Cash collected (everything but the realized loss) that is not interest."""
    return cash_collected_cents(collected) - interest_collected_cents(collected)


def _require_not_negative(**amounts: int) -> None:
    for name, cents in amounts.items():
        if cents < 0:
            # Returned payments only reverse cash (recover_returns carries those); a negative loss is not cash.
            raise CloseRefused(f"the period's net {name} is {dollars_grouped(cents)}: it cannot be negative")


def _interest_by_loan(loans: Sequence[LoanFacts], advancing: AdvancingResult | None) -> dict[str, int]:
    if advancing is None:
        return {f.loan_number: f.interest_cents + f.repurchase_interest_cents for f in loans}
    return {a.loan_number: a.interest_to_investors_cents for a in advancing.loans}


def _scheduled_amounts(loans: Sequence[LoanFacts], carried: Carried) -> tuple[int, int, int, AdvancingResult]:
    """Scheduled/scheduled: what the advancing rules pass to investors, less returned payments.

    A loan's collection netted negative by a return goes to the advancing rules as nothing
    collected (the returned installment is due again, and the payment the borrower made since paid
    it, so the period's own installment is advanced as unpaid); the negative part is the period's
    returns, recovered like an actual/actual trust's (recover_returns).
    """
    from remittance.domain.advancing import LoanPeriod, advance_period

    paid, returned_interest, returned_principal = [], 0, 0
    for f in loans:
        kept = {k: max(0, getattr(f, f"{k}_cents")) for k in COLLECTION_KINDS if is_cash(k)}
        returned_interest += sum(kept[k] - getattr(f, f"{k}_cents") for k in INTEREST_KINDS)
        returned_principal += sum(kept[k] - getattr(f, f"{k}_cents") for k in kept if k not in INTEREST_KINDS)
        paid.append((f, kept))
    advancing = advance_period([
        LoanPeriod(
            loan_number=f.loan_number, balance_begin_cents=f.balance_begin_cents, note_rate=f.note_rate,
            payment_pi_cents=f.payment_pi_cents, advancing=f.advancing and f.in_pool_at_start,
            interest_collected_cents=kept["interest"] + kept["repurchase_interest"],
            scheduled_principal_collected_cents=kept["scheduled_principal"],
            curtailment_cents=kept["curtailment"],
            payoff_principal_cents=kept["payoff_principal"] + kept["repurchase_principal"],
            liquidation_principal_cents=kept["liquidation_principal"], realized_loss_cents=f.realized_loss_cents,
            advances_outstanding_interest_cents=carried.advances_outstanding.get(f.loan_number, (0, 0))[0],
            advances_outstanding_principal_cents=carried.advances_outstanding.get(f.loan_number, (0, 0))[1],
        )
        for f, kept in paid
    ])
    return (advancing.interest_to_investors_cents - returned_interest,
            advancing.principal_to_investors_cents - returned_principal,
            advancing.loss_to_investors_cents, advancing)


def _outstanding(advancing: AdvancingResult | None) -> dict[str, tuple[int, int]]:
    if advancing is None:
        return {}
    return {a.loan_number: (a.outstanding_interest_after_cents, a.outstanding_principal_after_cents)
            for a in advancing.loans
            if a.outstanding_interest_after_cents or a.outstanding_principal_after_cents}


def _holder_payments(result: WaterfallResult, original_faces: Mapping[str, int],
                     holders: Mapping[str, Mapping[str, int]]) -> tuple[tuple[HolderPayment, ...], int]:
    payments, retained = [], 0
    for c in result.classes:
        held = dict(holders.get(c.name, {}))
        unplaced = original_faces[c.name] - sum(held.values())
        if unplaced < 0:
            raise CloseRefused(f"class {c.name}: holders of record hold more than its original face")
        shares = sorted(held.items()) + ([(UNPLACED, unplaced)] if unplaced else [])
        interest = split_among_holders(amount_cents=c.interest_paid_cents, holdings=shares)
        principal = split_among_holders(amount_cents=c.principal_paid_cents, holdings=shares)
        retained += interest.get(UNPLACED, 0) + principal.get(UNPLACED, 0)
        payments += [
            HolderPayment(holder_code=code, class_name=c.name, face_held_cents=face, interest_cents=interest[code],
                          principal_cents=principal[code])
            for code, face in sorted(held.items()) if interest[code] or principal[code]
        ]
    return tuple(payments), retained
