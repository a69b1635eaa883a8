"""Fixed-rate, level-payment amortization on 30/360: the payment and the schedule.

Pure functions over values. Money is integer cents; the note rate is a
Decimal annual percentage (Decimal("6") is 6%). Every function here takes it
as `note_rate`, the loan's own word for it, whoever the loan is: a serviced
loan, a pool loan in advancing, a synthetic loan of the benchmark, or a
projection's repline (whose note rate is its gross WAC).

Conventions (DESIGN.md section 3):
- payment = P * r / (1 - (1 + r)^-n), r = rate / 1200, rounded half-up to
  the cent once; a zero rate pays P / n, rounded half-up.
- each month interest = balance * r rounded half-up
  (`ledger.domain.money.monthly_rate_amount`), principal = payment - interest,
  never below zero and never above the balance (`scheduled_split`, the one
  split of a scheduled installment: payment application, the schedule, the
  advancing of a scheduled/scheduled deal, the realized speeds and the
  projection's cents all take it from here).
- the last installment clears the balance exactly: its payment is that
  month's interest plus whatever balance remains. Rounding the level payment
  can leave a tiny loan (a few cents over many months) paid off before the
  term; the schedule then ends at the installment that clears it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext

from dateutil.relativedelta import relativedelta

from ledger.domain.money import monthly_rate_amount, require_cents, round_half_up
from servicing.domain.arguments import require_date as _require_date

# Forty significant digits keep (1 + r)^-n exact far beyond the cent for any
# rate and term a mortgage can have; the default 28 would also do, but the
# margin costs nothing and removes the question.
_PRECISION = 40


@dataclass(frozen=True, slots=True)
class Installment:
    """One scheduled monthly installment of principal and interest."""

    number: int
    due_date: date
    payment_cents: int
    interest_cents: int
    principal_cents: int
    balance_cents_after: int


def level_payment_cents(*, principal_cents: int, note_rate: Decimal, term_months: int) -> int:
    """The level monthly principal-and-interest payment that amortizes the loan over its term."""
    require_cents(principal_cents, "principal_cents", zero=False)
    _require_rate(note_rate)
    _require_term(term_months)
    if note_rate == 0:
        return round_half_up(Decimal(principal_cents) / Decimal(term_months))
    with localcontext() as context:
        context.prec = _PRECISION
        monthly_rate = Decimal(note_rate) / Decimal(1200)
        discount = (1 + monthly_rate) ** -term_months
        payment = Decimal(principal_cents) * monthly_rate / (1 - discount)
        return round_half_up(payment)


def scheduled_split(*, balance_cents: int, note_rate: Decimal, payment_cents: int) -> tuple[int, int]:
    """One month's scheduled (interest, principal) on a balance: the month's interest, and the rest of the payment.

    Interest is always the whole month's interest on the balance: it accrues
    whatever is paid. Principal is the rest of the payment, clamped to what
    can be scheduled rather than refused:
    - never more than the balance: a loan whose balance is below a scheduled
      principal (its last installment, or one curtailed ahead of schedule)
      is scheduled to pay exactly its balance, so it ends at zero and no
      installment schedules a payment of principal that is not owed;
    - never below zero: a balance other than the loan's own can earn more
      interest than the payment covers (the investors' scheduled balance in
      advancing, a projection's cents after rounding), and then nothing of
      principal is scheduled; principal below zero would capitalize interest
      (negative amortization), which no loan here has. A loan's own terms
      are checked once, where they are accepted (`refuse_negative_amortization`),
      so a split is the same pure function wherever it is used.
    """
    require_cents(balance_cents, "balance_cents")
    _require_rate(note_rate)
    require_cents(payment_cents, "payment_cents")
    interest = monthly_rate_amount(balance_cents, note_rate)
    return interest, min(max(payment_cents - interest, 0), balance_cents)


def refuse_negative_amortization(*, balance_cents: int, note_rate: Decimal, payment_cents: int) -> None:
    """Refuse a loan whose payment does not cover a month's interest on its balance.

    Such a loan would grow (negative amortization); no fixed-rate level-pay
    loan does that, and servicing one would schedule installments larger
    than the borrower's payment. A loan's balance only falls, so a payment
    that covers the interest once covers it every month after.
    """
    interest, _principal = scheduled_split(balance_cents=balance_cents, note_rate=note_rate,
                                           payment_cents=payment_cents)
    if payment_cents < interest:
        raise ValueError(
            f"a payment of {payment_cents} cents does not cover the month's interest of {interest} cents; "
            "negative amortization is not supported"
        )


def maturity_date(*, first_payment_date: date, term_months: int) -> date:
    """The due date of the loan's last installment: no installment falls due after it."""
    _require_date("first_payment_date", first_payment_date)
    _require_term(term_months)
    return first_payment_date + relativedelta(months=term_months - 1)


def schedule(
    *, principal_cents: int, note_rate: Decimal, term_months: int, first_payment_date: date
) -> tuple[Installment, ...]:
    """The full amortization schedule, one installment a month from first_payment_date."""
    payment = level_payment_cents(
        principal_cents=principal_cents, note_rate=note_rate, term_months=term_months
    )
    _require_date("first_payment_date", first_payment_date)
    installments: list[Installment] = []
    balance = principal_cents
    for number in range(1, term_months + 1):
        interest, principal = scheduled_split(balance_cents=balance, note_rate=note_rate,
                                              payment_cents=payment)
        if number == term_months:
            principal = balance  # the last installment takes whatever is left, so the loan ends at exactly zero
        balance -= principal
        installments.append(
            Installment(
                number=number,
                # Counting from the first date (not the previous one) keeps a 31st from drifting to the 28th.
                due_date=first_payment_date + relativedelta(months=number - 1),
                payment_cents=interest + principal,
                interest_cents=interest,
                principal_cents=principal,
                balance_cents_after=balance,
            )
        )
        if balance == 0:
            break
    return tuple(installments)




def _require_rate(note_rate: object) -> None:
    if not isinstance(note_rate, (Decimal, int)) or isinstance(note_rate, bool):
        raise ValueError(f"note_rate must be a Decimal, not {type(note_rate).__name__}")
    if not Decimal(note_rate).is_finite() or note_rate < 0:
        raise ValueError(f"note_rate must be a finite percentage of zero or more, got {note_rate}")


def _require_term(term_months: object) -> None:
    if type(term_months) is not int or term_months <= 0:
        raise ValueError(f"term_months must be a positive whole number of months, got {term_months!r}")
