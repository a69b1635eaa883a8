"""The figures of the monthly distribution statement that are arithmetic on a close's recorded facts.

Pure: integers and Decimals in, integers and strings out, no database. The selector
(remittance.selectors.distribution_statement) reads the facts; every rule of the statement's
arithmetic is here, once:

- `per_thousand`: an amount per $1,000 of original face, the market's convention: amount * 1000 /
  original face, in dollars, to 8 decimals, half up, computed on integers (never a float);
- `principal_split`: a class's principal paid split by the pool's principal kinds (scheduled, prepaid,
  liquidated) with ledger.domain.money.allocate, so the three parts always sum to the class's principal;
- `holder_shares`: a class's amount split among its holders of record by face held, the unplaced bonds'
  share kept apart, exactly (the close's own split: remittance.domain.waterfall.split_among_holders);
- `class_rate`: the rate a class was paid in the period (its coupon, or a net-WAC class's effective rate);
- `collateral_summary`, `delinquency_table`, `credit_enhancement`: the pool's make-up at the period's end.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from ledger.domain.money import allocate, round_ratio_half_up
from remittance.domain.waterfall import split_among_holders

PER_THOUSAND_PLACES = 8  # the market's convention for amounts per $1,000 of original face
PERCENT_PLACES = 4  # rates and percentages of balances on the statement
MONTH_PLACES = 1  # WAM and WALA, in months

# The pool's principal by kind (remittance.domain.close_figures.COLLECTION_KINDS) as a statement splits it.
# A repurchase is unscheduled principal the pool received in full: a prepayment to the bondholders.
PRINCIPAL_KINDS: dict[str, tuple[str, ...]] = {
    "scheduled": ("scheduled_principal",),
    "prepaid": ("curtailment", "payoff_principal", "repurchase_principal"),
    "liquidated": ("liquidation_principal",),
}
UNPLACED = "(unplaced)"  # the split's key for bonds no holder holds (as the close's: close_figures.UNPLACED)

# The delinquency table's rows, in the order a trustee's statement lists them. A loan is in exactly one:
# REO before foreclosure before bankruptcy, then by its MBA bucket (servicing.domain.delinquency_status).
DELINQUENCY_ROWS = ("current", "30", "60", "90+", "foreclosure", "reo", "bankruptcy")


def decimal_text(numerator: int, denominator: int, places: int) -> str:
    """numerator / denominator to `places` decimals, half up, in integers only ("12.34567890")."""
    scaled = round_ratio_half_up(numerator * 10 ** places, denominator)
    sign, digits = ("-" if scaled < 0 else ""), str(abs(scaled)).rjust(places + 1, "0")
    return f"{sign}{digits[:-places]}.{digits[-places:]}" if places else f"{sign}{digits}"


def per_thousand(amount_cents: int, original_face_cents: int) -> str:
    """Dollars per $1,000 of original face, to 8 decimals: amount * 1000 / face (cents over cents)."""
    if original_face_cents <= 0:
        raise ValueError(f"an original face must be above zero to state an amount per $1,000, not {original_face_cents}")
    return decimal_text(amount_cents * 1000, original_face_cents, PER_THOUSAND_PLACES)


def percent(part_cents: int, whole_cents: int) -> str:
    """part / whole as a percent to 4 decimals; "0.0000" of nothing."""
    return decimal_text(part_cents * 100, whole_cents, PERCENT_PLACES) if whole_cents else decimal_text(0, 1, PERCENT_PLACES)


def pool_principal_by_kind(collected: Mapping[str, int]) -> dict[str, int]:
    """The pool's principal of the period by the statement's kinds (each a sum of collection kinds)."""
    return {kind: sum(collected.get(name, 0) for name in names) for kind, names in PRINCIPAL_KINDS.items()}


def principal_split(principal_cents: int, pool_by_kind: Mapping[str, int]) -> dict[str, int]:
    """A class's principal paid, prorated by the pool's principal kinds, exactly (the parts sum to it).

    A kind the period netted below zero (a returned payoff, say) weighs nothing. Principal with no pool
    principal to weigh it by (an advance of scheduled principal, excess interest paying principal) is
    scheduled principal.
    """
    weights = [max(pool_by_kind.get(kind, 0), 0) for kind in PRINCIPAL_KINDS]
    if not any(weights):
        weights = [1, 0, 0]
    return dict(zip(PRINCIPAL_KINDS, allocate(principal_cents, weights, keys=list(PRINCIPAL_KINDS))))


def holder_shares(amount_cents: int, held: Mapping[str, int], original_face_cents: int) -> dict[str, int]:
    """A class's amount (a loss written off, say) split among its holders by face held on the record date.

    The bonds no holder holds take their share under UNPLACED, so the parts always sum to the amount,
    split as the close splits the class's payments (largest remainder, ties to the smaller code).
    """
    unplaced = original_face_cents - sum(held.values())
    if unplaced < 0:
        raise ValueError(f"holders of record hold {sum(held.values())} cents, more than the class's "
                         f"original face of {original_face_cents}")
    shares = sorted(held.items()) + ([(UNPLACED, unplaced)] if unplaced else [])
    if not shares:
        return {UNPLACED: amount_cents} if amount_cents else {}
    return split_among_holders(amount_cents=amount_cents, holdings=shares)


def class_rate(coupon: str, *, interest_paid_cents: int, balance_begin_cents: int) -> str:
    """The annual percent a class was paid in the period on its beginning balance (30/360).

    A fixed-coupon class accrues at its coupon; a net-WAC class is paid what interest is left, so its
    rate is the effective one: interest paid * 12 / beginning balance ("0.0000" once paid off).
    """
    if coupon != "net-wac":
        return f"{Decimal(coupon).quantize(Decimal(1).scaleb(-PERCENT_PLACES)):f}"
    return percent(interest_paid_cents * 12, balance_begin_cents)


# ------------------------------------------------------------------ the pool at the period's end


@dataclass(frozen=True, slots=True, kw_only=True)
class LoanAtEnd:
    """One pool loan at the end of a period, as the statement describes the collateral."""

    loan_number: str
    balance_cents: int
    note_rate: Decimal
    term_months: int
    age_months: int  # installments fallen due by the period's end
    status: str  # LoanPosition.status then
    bucket: str  # the MBA bucket at the period's end
    bankruptcy_chapter: int | None


def collateral_summary(loans: Sequence[LoanAtEnd]) -> dict[str, int | str]:
    """Loan count, balance, WAC (percent), WAM and WALA (months) weighted by balance, and the average balance."""
    held = [loan for loan in loans if loan.balance_cents > 0]
    total = sum(loan.balance_cents for loan in held)

    def weighted(values: Sequence[Decimal | int], places: int) -> str:
        # Exact: Decimal rates scaled to integers, so the weighted average is one integer ratio.
        scale = 10 ** 6
        numerator = sum(int(Decimal(v) * scale) * loan.balance_cents for v, loan in zip(values, held))
        return decimal_text(numerator, total * scale, places) if total else decimal_text(0, 1, places)

    return {
        "loan_count": len(held), "balance_cents": total,
        "wac": weighted([loan.note_rate for loan in held], PERCENT_PLACES),
        "wam": weighted([max(loan.term_months - loan.age_months, 0) for loan in held], MONTH_PLACES),
        "wala": weighted([loan.age_months for loan in held], MONTH_PLACES),
        "average_balance_cents": round_ratio_half_up(total, len(held)) if held else 0,
    }


def delinquency_row(loan: LoanAtEnd) -> str:
    """The one row of the delinquency table a loan is counted in."""
    return delinquency_row_of(status=loan.status, bucket=loan.bucket, bankruptcy_chapter=loan.bankruptcy_chapter)


def delinquency_row_of(*, status: str, bucket: str, bankruptcy_chapter: int | None) -> str:
    """The row of a loan by its status, MBA bucket and bankruptcy chapter: REO, foreclosure and bankruptcy
    before its bucket."""
    if status == "reo":
        return "reo"
    if status == "foreclosure":
        return "foreclosure"
    if bankruptcy_chapter is not None:
        return "bankruptcy"
    return bucket


# The rows a deal's delinquency triggers count (trusts.domain.deal_structure.Triggers): 60+ and 90+ days,
# and every loan in foreclosure, REO or bankruptcy, as the statement's table shows them.
DELINQUENT_60_ROWS = ("60", "90+", "foreclosure", "reo", "bankruptcy")
DELINQUENT_90_ROWS = ("90+", "foreclosure", "reo", "bankruptcy")


def delinquent_balances(rows: Sequence[tuple[str, int]]) -> tuple[int, int]:
    """(60+ balance, 90+ balance) of (delinquency row, balance) pairs."""
    return (sum(cents for row, cents in rows if row in DELINQUENT_60_ROWS),
            sum(cents for row, cents in rows if row in DELINQUENT_90_ROWS))


def delinquency_table(loans: Sequence[LoanAtEnd]) -> list[dict[str, int | str]]:
    """Count, balance and percent of the pool's balance of each row; every loan with a balance in one row."""
    held = [loan for loan in loans if loan.balance_cents > 0]
    total = sum(loan.balance_cents for loan in held)
    rows = {name: [0, 0] for name in DELINQUENCY_ROWS}
    for loan in held:
        row = rows[delinquency_row(loan)]
        row[0] += 1
        row[1] += loan.balance_cents
    return [{"status": name, "count": count, "balance_cents": cents, "percent": percent(cents, total)}
            for name, (count, cents) in rows.items()]


def credit_enhancement(classes: Sequence[tuple[str, int, int]], pool_cents: int) -> dict[str, str]:
    """Each class's credit enhancement: the classes junior to it and the overcollateralization, as a
    percent of the pool. classes: (name, priority, balance) in any order; a higher priority is junior."""
    overcollateral = max(pool_cents - sum(balance for _, _, balance in classes), 0)
    return {name: percent(sum(b for _, p, b in classes if p > priority) + overcollateral, pool_cents)
            for name, priority, _ in classes}
