"""Servicer advancing for a scheduled/scheduled trust: one period, to the cent.

In a scheduled/scheduled trust (every Fannie Mae MBS) investors receive each
loan's scheduled interest and scheduled principal whether or not the
borrower paid. The servicer advances the shortfall from its own money; the
advance is the servicer's receivable, and it is recovered first, before the
investors see a cent, from the borrower's later payments or from the loan's
payoff or liquidation. `advance_period` works out one trust's loans for one
monthly period; the month-end close feeds its totals to the waterfall
(interest_to_investors and principal_to_investors as collections,
loss_to_investors as realized loss). Actual/actual trusts do not call it.

Conventions, as in remittance/domain/waterfall.py: money is integer cents, note
rates are Decimal annual percentages (Decimal("6") is 6%), every input is
validated (AdvancingError, a ValueError, names the loan and the field) and
every result is checked for conservation (AdvancingConservationError, an
AssertionError) before it is returned.

Words used below, per loan:
- ledger balance L: the borrower's unpaid principal (balance_begin_cents).
- O_I, O_P: interest and principal advances outstanding at the start.
- scheduled balance B = L - O_P: the investors' balance in the loan. Every
  cent of principal advanced has already paid the classes down, so the
  investors hold exactly the ledger balance less the principal the
  servicer is still owed. For a loan with nothing advanced (every current
  loan) B is the ledger balance.
- a period "closes" the loan when it pays off or is liquidated:
  payoff_principal, liquidation_principal or realized_loss above zero. The
  principal it reports (scheduled collected + curtailment + payoff +
  liquidation principal + realized loss) must then be the whole ledger
  balance; in any other period it must not exceed it.

Rules:
1. Schedule. scheduled interest S_I = monthly_rate_amount(B, note_rate);
   scheduled principal S_P = min(B, max(0, payment_pi - S_I)), the
   servicing's own split (`servicing.domain.amortization.scheduled_split`). They are
   computed on the scheduled balance B, not on the ledger balance: a loan
   that missed January is still owed February's installment on the
   balance after January's installment, and that is also the balance the
   investors are paid interest on. (Seed loan, $100,000 at 6%, 599.55:
   January 500.00 + 99.55; February 499.50 + 100.05 whether or not
   January was paid.)
2. New advances, only in a period that does not close the loan, when
   `advancing` is True: interest advance = max(0, S_I - interest
   collected); principal advance = max(0, S_P - scheduled principal
   collected). A zero scheduled balance schedules, and so advances,
   nothing. Curtailments are never advanced and never recover anything.
3. Recovery from a performing loan (a period that does not close it):
   the borrower's excess over the schedule, interest collected - S_I and
   scheduled principal collected - S_P (each if positive), repays the
   outstanding advances of its own kind only: excess interest repays
   interest advances, excess scheduled principal repays principal
   advances, never more than is outstanding. What is left of an excess
   goes to the investors. A borrower who pays whole installments in
   order, however late, produces an excess that is exactly the advances
   of its kind for the installments caught up, so this rule recovers
   every cent the moment the borrower catches up (property-tested).
   Money is not crossed between kinds while the loan performs: principal
   that repaid an interest advance would leave the classes above the
   loan's ledger balance (a write-off on a performing loan) and interest
   that repaid a principal advance would leave them below it (a negative
   loss); an advance the own kind does not cover waits for later
   collections or for the loan's final proceeds, which are all available.
4. Recovery when the loan closes: everything the period brings in is
   available, the interest pot being interest collected + liquidation
   interest and the principal pot being scheduled principal collected +
   curtailment + payoff principal + liquidation principal. In order:
   (a) the interest pot repays interest advances and the principal pot
   repays principal advances; (b) what is left of the interest pot repays
   principal advances still outstanding, and what is left of the
   principal pot repays interest advances still outstanding. (Only one
   of the two crossings in (b) can be non-zero.) What is left of each
   pot goes to the investors. An advance the proceeds cannot repay stays
   outstanding: it is nonrecoverable from this loan, and reimbursing it
   from the trust's other collections is the caller's decision.
5. To investors: interest_to_investors = interest collected + liquidation
   interest + interest advanced - what the interest pot repaid;
   principal_to_investors = scheduled principal collected + curtailment +
   payoff principal + liquidation principal + principal advanced - what
   the principal pot repaid.
6. Loss to investors: zero in a period that does not close the loan. In a
   period that closes it, the investors' whole remaining balance in the
   loan goes, paid or written off:
       loss_to_investors = B - principal_to_investors
                         = realized_loss
                           + principal pot used to repay interest advances
                           - interest pot used to repay principal advances
                           - principal advances left unrecovered,
   never negative: when the principal pot covers O_P, the last two terms
   are zero; when it does not, it all went to the servicer, and the loss
   is B (the investors get no principal, and the interest pot's repayment
   and the unrecovered remainder of O_P are the principal that was
   already advanced to them). A payoff (no realized loss) loses principal
   only when its interest falls short of the interest advances.
7. Life identity. Each period keeps the investors' balance in the loan
   equal to L - O_P (and zero once it closes), so over the life of a loan
   that entered the pool with balance L0 and nothing outstanding:
       sum(principal_to_investors + loss_to_investors)
           = L0 - (ending ledger balance - principal advances outstanding),
   which is L0 - ending ledger balance once nothing is outstanding, and
   L0 once the loan has paid off or been liquidated.

"Recovered" fields name the advance repaid, not the pot that paid it:
recovered_interest_cents is interest advances repaid (from either pot),
recovered_principal_cents principal advances repaid, so that
outstanding after = outstanding before + advanced - recovered for each
kind. The crossings are reported separately
(principal_cash_to_interest_advances_cents,
interest_cash_to_principal_advances_cents), and what each pot paid the
servicer is recovered_from_interest_cash_cents /
recovered_from_principal_cash_cents; the cash conservation check uses
those.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from ledger.domain.money import CentsError, require_cents
from servicing.domain.amortization import scheduled_split


class AdvancingError(ValueError):
    """The loans given cannot be advanced: the message names the loan and the field."""


class AdvancingConservationError(AssertionError):
    """An advancing result does not account for every cent it was given."""


# ---------------------------------------------------------------- inputs


@dataclass(frozen=True, slots=True, kw_only=True)
class LoanPeriod:
    """One loan of the pool in one monthly period, as the ledger has it."""

    loan_number: str
    # Unpaid principal at the start of the period (the ledger balance).
    balance_begin_cents: int
    # Annual percent: Decimal("6") is 6%.
    note_rate: Decimal
    # Level monthly principal and interest.
    payment_pi_cents: int
    # True if the loan is owed an installment this period and advancing
    # applies (active or delinquent, not paid off or liquidated before it).
    advancing: bool
    # This period, from the borrower (catch-up months included); excludes
    # liquidation interest.
    interest_collected_cents: int
    # The scheduled-principal part of what was collected (catch-ups included).
    scheduled_principal_collected_cents: int
    # Prepaid principal: never advanced, never used for recovery while the loan performs.
    curtailment_cents: int = 0
    payoff_principal_cents: int = 0
    liquidation_principal_cents: int = 0
    # Interest part of liquidation proceeds, not included in interest_collected_cents.
    liquidation_interest_cents: int = 0
    # Loss the servicer recorded at liquidation (ledger balance not recovered).
    realized_loss_cents: int = 0
    # Unrecovered advances from earlier periods.
    advances_outstanding_interest_cents: int = 0
    advances_outstanding_principal_cents: int = 0

    @property
    def closes(self) -> bool:
        """True if the loan pays off or is liquidated this period."""
        return bool(self.payoff_principal_cents or self.liquidation_principal_cents or self.realized_loss_cents)


# ---------------------------------------------------------------- output


@dataclass(frozen=True, slots=True, kw_only=True)
class LoanAdvancing:
    """What one loan was scheduled, advanced, repaid and paid to investors this period."""

    loan_number: str
    scheduled_interest_cents: int
    scheduled_principal_cents: int
    advanced_interest_cents: int
    advanced_principal_cents: int
    # Interest advances repaid this period, from either pot.
    recovered_interest_cents: int
    # Principal advances repaid this period, from either pot.
    recovered_principal_cents: int
    outstanding_interest_after_cents: int
    outstanding_principal_after_cents: int
    interest_to_investors_cents: int
    principal_to_investors_cents: int
    loss_to_investors_cents: int
    # --- what the figures above are reconciled against
    # True if the loan paid off or was liquidated this period.
    closes: bool
    # Interest cash: interest collected + liquidation interest.
    interest_collected_cents: int
    # Principal cash: scheduled principal collected + curtailment + payoff + liquidation principal.
    principal_collected_cents: int
    realized_loss_cents: int
    outstanding_interest_before_cents: int
    outstanding_principal_before_cents: int
    # Crossings (only when the loan closes): principal cash that repaid
    # interest advances, interest cash that repaid principal advances.
    principal_cash_to_interest_advances_cents: int
    interest_cash_to_principal_advances_cents: int
    # Ledger balance at the start and at the end of the period.
    balance_begin_cents: int
    balance_end_cents: int
    # The investors' balance in the loan (ledger less principal advances
    # outstanding) at the start, and at the end (zero once the loan closes).
    scheduled_balance_begin_cents: int
    scheduled_balance_end_cents: int

    @property
    def recovered_from_interest_cash_cents(self) -> int:
        """What the interest pot paid the servicer."""
        return (
            self.recovered_interest_cents
            - self.principal_cash_to_interest_advances_cents
            + self.interest_cash_to_principal_advances_cents
        )

    @property
    def recovered_from_principal_cash_cents(self) -> int:
        """What the principal pot paid the servicer."""
        return (
            self.recovered_principal_cents
            - self.interest_cash_to_principal_advances_cents
            + self.principal_cash_to_interest_advances_cents
        )

    @property
    def advanced_cents(self) -> int:
        return self.advanced_interest_cents + self.advanced_principal_cents

    @property
    def recovered_cents(self) -> int:
        return self.recovered_interest_cents + self.recovered_principal_cents

    @property
    def outstanding_before_cents(self) -> int:
        return self.outstanding_interest_before_cents + self.outstanding_principal_before_cents

    @property
    def outstanding_after_cents(self) -> int:
        return self.outstanding_interest_after_cents + self.outstanding_principal_after_cents


@dataclass(frozen=True, slots=True, kw_only=True)
class AdvancingResult:
    """One period's advancing for a whole trust: per loan, in the order given, and totals."""

    loans: tuple[LoanAdvancing, ...]
    interest_to_investors_cents: int
    principal_to_investors_cents: int
    loss_to_investors_cents: int
    # New this period.
    advanced_cents: int
    recovered_cents: int
    outstanding_before_cents: int
    outstanding_after_cents: int

    def for_loan(self, loan_number: str) -> LoanAdvancing:
        """The result of the loan numbered loan_number."""
        for loan in self.loans:
            if loan.loan_number == loan_number:
                return loan
        raise KeyError(loan_number)

    def check_conservation(self) -> None:
        """Raise AdvancingConservationError unless every cent is accounted for, per loan and in total."""
        problems = [problem for loan in self.loans for problem in _loan_problems(loan)]
        loans = self.loans
        for total, name in (
            (self.interest_to_investors_cents, "interest_to_investors_cents"),
            (self.principal_to_investors_cents, "principal_to_investors_cents"),
            (self.loss_to_investors_cents, "loss_to_investors_cents"),
        ):
            if total != sum(getattr(loan, name) for loan in loans):
                problems.append(f"{name} is not the sum over the loans")
        for total, name in (
            (self.advanced_cents, "advanced_cents"),
            (self.recovered_cents, "recovered_cents"),
            (self.outstanding_before_cents, "outstanding_before_cents"),
            (self.outstanding_after_cents, "outstanding_after_cents"),
        ):
            if total != sum(getattr(loan, name) for loan in loans):
                problems.append(f"{name} is not the sum over the loans")
        if self.outstanding_after_cents != self.outstanding_before_cents + self.advanced_cents - self.recovered_cents:
            problems.append("outstanding after != outstanding before + advanced - recovered")
        problems.extend(_negative_amounts(self))
        if problems:
            raise AdvancingConservationError("; ".join(problems))


def _loan_problems(loan: LoanAdvancing) -> list[str]:
    problems = []
    if loan.interest_collected_cents + loan.advanced_interest_cents != (
        loan.interest_to_investors_cents + loan.recovered_from_interest_cash_cents
    ):
        problems.append("interest cash + interest advanced != interest to investors + interest cash recovered")
    if loan.principal_collected_cents + loan.advanced_principal_cents != (
        loan.principal_to_investors_cents + loan.recovered_from_principal_cash_cents
    ):
        problems.append("principal cash + principal advanced != principal to investors + principal cash recovered")
    cash_in = loan.interest_collected_cents + loan.principal_collected_cents + loan.advanced_cents
    cash_out = loan.interest_to_investors_cents + loan.principal_to_investors_cents + loan.recovered_cents
    if cash_in != cash_out:
        problems.append("cash in (collected + advanced) != cash out (to investors + recovered)")
    if loan.outstanding_interest_after_cents != (
        loan.outstanding_interest_before_cents + loan.advanced_interest_cents - loan.recovered_interest_cents
    ):
        problems.append("outstanding interest advances do not roll forward")
    if loan.outstanding_principal_after_cents != (
        loan.outstanding_principal_before_cents + loan.advanced_principal_cents - loan.recovered_principal_cents
    ):
        problems.append("outstanding principal advances do not roll forward")
    if loan.balance_end_cents != (
        loan.balance_begin_cents - loan.principal_collected_cents - loan.realized_loss_cents
    ):
        problems.append("ledger balance does not roll forward")
    if loan.scheduled_balance_begin_cents != loan.balance_begin_cents - loan.outstanding_principal_before_cents:
        problems.append("scheduled balance != ledger balance - principal advances outstanding")
    if loan.scheduled_balance_end_cents != (
        loan.scheduled_balance_begin_cents - loan.principal_to_investors_cents - loan.loss_to_investors_cents
    ):
        problems.append("scheduled balance does not roll forward")
    if loan.closes:
        if loan.balance_end_cents or loan.scheduled_balance_end_cents:
            problems.append("a loan that closes must end with no ledger and no scheduled balance")
        if loan.advanced_cents:
            problems.append("a loan that closes is advanced nothing")
    else:
        if loan.scheduled_balance_end_cents != loan.balance_end_cents - loan.outstanding_principal_after_cents:
            problems.append("scheduled balance end != ledger balance end - principal advances outstanding")
        if loan.loss_to_investors_cents or loan.realized_loss_cents:
            problems.append("a loan that does not close has no loss")
        if loan.principal_cash_to_interest_advances_cents or loan.interest_cash_to_principal_advances_cents:
            problems.append("a loan that does not close crosses no cash between kinds")
    problems.extend(_negative_amounts(loan))
    return [f"loan {loan.loan_number}: {problem}" for problem in problems]


def _negative_amounts(record: LoanAdvancing | AdvancingResult) -> list[str]:
    negative = [
        f"{name} is negative"
        for name in record.__slots__
        if name.endswith("_cents") and getattr(record, name) < 0
    ]
    if isinstance(record, LoanAdvancing):
        negative.extend(
            f"{name} is negative"
            for name in ("recovered_from_interest_cash_cents", "recovered_from_principal_cash_cents")
            if getattr(record, name) < 0
        )
    return negative


# ------------------------------------------------------------ the period


def advance_period(loans: Sequence[LoanPeriod]) -> AdvancingResult:
    """Advance, recover and pay out one scheduled/scheduled period for a trust's loans.

    The rules are in the module docstring. Results keep the order the loans
    were given in; the result is checked for conservation before it returns.
    """
    _validate_pool(loans)
    results = tuple(_advance_loan(loan) for loan in loans)
    result = AdvancingResult(
        loans=results,
        interest_to_investors_cents=sum(r.interest_to_investors_cents for r in results),
        principal_to_investors_cents=sum(r.principal_to_investors_cents for r in results),
        loss_to_investors_cents=sum(r.loss_to_investors_cents for r in results),
        advanced_cents=sum(r.advanced_cents for r in results),
        recovered_cents=sum(r.recovered_cents for r in results),
        outstanding_before_cents=sum(r.outstanding_before_cents for r in results),
        outstanding_after_cents=sum(r.outstanding_after_cents for r in results),
    )
    result.check_conservation()
    return result


def _advance_loan(loan: LoanPeriod) -> LoanAdvancing:
    owed_interest = loan.advances_outstanding_interest_cents
    owed_principal = loan.advances_outstanding_principal_cents
    scheduled_balance = loan.balance_begin_cents - owed_principal
    scheduled_interest, scheduled_principal = scheduled_split(
        balance_cents=scheduled_balance, note_rate=loan.note_rate, payment_cents=loan.payment_pi_cents
    )
    interest_cash = loan.interest_collected_cents + loan.liquidation_interest_cents
    principal_cash = (
        loan.scheduled_principal_collected_cents
        + loan.curtailment_cents
        + loan.payoff_principal_cents
        + loan.liquidation_principal_cents
    )
    closes = loan.closes
    advanced_interest = advanced_principal = 0
    if closes:
        # Rule 4: the loan's final proceeds are all available.
        interest_pot, principal_pot = interest_cash, principal_cash
    else:
        # Rules 2 and 3: shortfalls are advanced, excesses recover their own kind.
        if loan.advancing:
            advanced_interest = max(0, scheduled_interest - loan.interest_collected_cents)
            advanced_principal = max(0, scheduled_principal - loan.scheduled_principal_collected_cents)
        interest_pot = max(0, loan.interest_collected_cents - scheduled_interest)
        principal_pot = max(0, loan.scheduled_principal_collected_cents - scheduled_principal)
    interest_to_interest = min(interest_pot, owed_interest)
    principal_to_principal = min(principal_pot, owed_principal)
    interest_to_principal = principal_to_interest = 0
    if closes:
        interest_to_principal = min(interest_pot - interest_to_interest, owed_principal - principal_to_principal)
        principal_to_interest = min(principal_pot - principal_to_principal, owed_interest - interest_to_interest)
    recovered_interest = interest_to_interest + principal_to_interest
    recovered_principal = principal_to_principal + interest_to_principal
    interest_to_investors = interest_cash + advanced_interest - interest_to_interest - interest_to_principal
    principal_to_investors = principal_cash + advanced_principal - principal_to_principal - principal_to_interest
    balance_end = loan.balance_begin_cents - principal_cash - loan.realized_loss_cents
    if closes:
        # Rule 6: the investors' whole remaining balance is paid or written off.
        loss = scheduled_balance - principal_to_investors
        scheduled_balance_end = 0
    else:
        loss = 0
        scheduled_balance_end = scheduled_balance - principal_to_investors
        if scheduled_balance_end < 0:
            raise AdvancingError(
                f"loan {loan.loan_number}: curtailment_cents {loan.curtailment_cents} is more than the "
                f"investors' balance left in the loan ({scheduled_balance - (principal_to_investors - loan.curtailment_cents)} "
                f"cents, the ledger balance less the principal advances outstanding)"
            )
    return LoanAdvancing(
        loan_number=loan.loan_number,
        scheduled_interest_cents=scheduled_interest,
        scheduled_principal_cents=scheduled_principal,
        advanced_interest_cents=advanced_interest,
        advanced_principal_cents=advanced_principal,
        recovered_interest_cents=recovered_interest,
        recovered_principal_cents=recovered_principal,
        outstanding_interest_after_cents=owed_interest + advanced_interest - recovered_interest,
        outstanding_principal_after_cents=owed_principal + advanced_principal - recovered_principal,
        interest_to_investors_cents=interest_to_investors,
        principal_to_investors_cents=principal_to_investors,
        loss_to_investors_cents=loss,
        closes=closes,
        interest_collected_cents=interest_cash,
        principal_collected_cents=principal_cash,
        realized_loss_cents=loan.realized_loss_cents,
        outstanding_interest_before_cents=owed_interest,
        outstanding_principal_before_cents=owed_principal,
        principal_cash_to_interest_advances_cents=principal_to_interest,
        interest_cash_to_principal_advances_cents=interest_to_principal,
        balance_begin_cents=loan.balance_begin_cents,
        balance_end_cents=balance_end,
        scheduled_balance_begin_cents=scheduled_balance,
        scheduled_balance_end_cents=scheduled_balance_end,
    )


# ------------------------------------------------------------- validation

_CENTS_FIELDS = (
    "balance_begin_cents",
    "payment_pi_cents",
    "interest_collected_cents",
    "scheduled_principal_collected_cents",
    "curtailment_cents",
    "payoff_principal_cents",
    "liquidation_principal_cents",
    "liquidation_interest_cents",
    "realized_loss_cents",
    "advances_outstanding_interest_cents",
    "advances_outstanding_principal_cents",
)


def _validate_pool(loans: Sequence[LoanPeriod]) -> None:
    seen: set[str] = set()
    for loan in loans:
        if not isinstance(loan, LoanPeriod):
            raise AdvancingError(f"each loan must be a LoanPeriod, not {loan!r}")
        _validate_loan(loan)
        if loan.loan_number in seen:
            raise AdvancingError(f"loan {loan.loan_number}: loan_number appears more than once")
        seen.add(loan.loan_number)


def _validate_loan(loan: LoanPeriod) -> None:
    number = loan.loan_number
    if not isinstance(number, str) or not number:
        raise AdvancingError(f"loan {number!r}: loan_number must be a non-empty string")
    for name in _CENTS_FIELDS:
        value = getattr(loan, name)
        try:
            require_cents(value, f"loan {number}: {name}")
        except CentsError as error:
            raise AdvancingError(str(error)) from None
    rate = loan.note_rate
    if not isinstance(rate, Decimal) or not rate.is_finite() or rate < 0:
        raise AdvancingError(f"loan {number}: note_rate must be a non-negative Decimal, not {rate!r}")
    if not isinstance(loan.advancing, bool):
        raise AdvancingError(f"loan {number}: advancing must be True or False, not {loan.advancing!r}")
    balance = loan.balance_begin_cents
    if loan.advances_outstanding_principal_cents > balance:
        raise AdvancingError(
            f"loan {number}: advances_outstanding_principal_cents {loan.advances_outstanding_principal_cents} "
            f"exceeds balance_begin_cents {balance}: principal is only advanced out of the balance"
        )
    if loan.liquidation_interest_cents and not (loan.liquidation_principal_cents or loan.realized_loss_cents):
        raise AdvancingError(
            f"loan {number}: liquidation_interest_cents without a liquidation "
            f"(liquidation_principal_cents and realized_loss_cents are 0)"
        )
    reduction = (
        loan.scheduled_principal_collected_cents
        + loan.curtailment_cents
        + loan.payoff_principal_cents
        + loan.liquidation_principal_cents
        + loan.realized_loss_cents
    )
    parts = (
        "scheduled_principal_collected_cents + curtailment_cents + payoff_principal_cents"
        " + liquidation_principal_cents + realized_loss_cents"
    )
    if loan.closes and reduction != balance:
        raise AdvancingError(
            f"loan {number}: a payoff or liquidation must close the loan: {parts} = {reduction}, "
            f"balance_begin_cents = {balance}"
        )
    if reduction > balance:
        raise AdvancingError(f"loan {number}: {parts} = {reduction} exceeds balance_begin_cents {balance}")
