"""A synthetic portfolio for the benchmark: loan tapes, deal files and payment files.

Pure and deterministic (a seeded generator per loan), so two runs of the same
size produce the same files, and every file is produced in chunks: the
portfolio is never held in memory at once. The files are the ones operations
staff load (the README's tape, deal and payment file formats), so the
benchmark measures the same services they use.

Dates follow the month the benchmark closes (`BenchCalendar`): loans are
boarded and pooled on the last day of the month before it, their first
installment is due on its 1st, and every trust's first payment date is in the
month after, so the benchmark month is every trust's first collection period.
"""
from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from ledger.domain.money import dollars
from remittance.domain.trust_calendar import Period
from servicing.domain.amortization import level_payment_cents, scheduled_split
from servicing.domain.loan_tape import TAPE_COLUMNS

# The month's mix of borrower behaviour, as shares of loans (the rest pay on time).
MIX = (("missed", 0.04), ("partial", 0.03), ("curtailment", 0.05), ("payoff", 0.01))
RATES = (Decimal("5.5"), Decimal("5.75"), Decimal("6"), Decimal("6.25"), Decimal("6.5"), Decimal("7"))
FEE_RATES = (Decimal("0.25"), Decimal("0.375"), Decimal("0.5"))


@dataclass(frozen=True, slots=True)
class BenchCalendar:
    """The dates of a run: the month closed is the last full month before `today`."""

    period: Period

    @classmethod
    def before(cls, today: date) -> BenchCalendar:
        return cls(Period.containing(today).previous())

    @property
    def boarded_on(self) -> date:
        return self.period.first_day - timedelta(days=1)

    @property
    def first_due(self) -> date:
        return self.period.first_day

    @property
    def trust_first_payment(self) -> date:
        return self.period.next().first_day.replace(day=25)


@dataclass(frozen=True, slots=True)
class Shape:
    """How big the portfolio is: loans, trusts, holdings (and the investors who hold them)."""

    loans: int
    trusts: int
    holdings: int

    def __post_init__(self):
        if self.loans < self.trusts or self.trusts < 1:
            raise ValueError("need at least one loan per trust and one trust")
        if self.holdings < self.trusts:
            raise ValueError("need at least one holding per trust")

    @property
    def investors(self) -> int:
        # Each investor holds bonds of about five trusts, as real accounts spread over deals.
        return max(1, self.holdings // 5)

    def trust_loans(self, trust: int) -> range:
        """The loan indexes (0-based) of one trust: consecutive, nearly equal pools."""
        start = trust * self.loans // self.trusts
        return range(start, (trust + 1) * self.loans // self.trusts)

    def trust_holdings(self, trust: int) -> int:
        return (trust + 1) * self.holdings // self.trusts - trust * self.holdings // self.trusts


def loan_number(index: int) -> str:
    return f"BL{index + 1:08d}"


def trust_code(index: int) -> str:
    return f"BEN-{index + 1:05d}"


def investor_code(index: int) -> str:
    return f"BINV-{index + 1:06d}"


@dataclass(frozen=True, slots=True)
class SyntheticLoan:
    index: int
    balance_cents: int
    note_rate: Decimal
    fee_rate: Decimal
    escrow_cents: int

    @property
    def number(self) -> str:
        return loan_number(self.index)

    @property
    def payment_cents(self) -> int:
        return level_payment_cents(principal_cents=self.balance_cents, note_rate=self.note_rate,
                                   term_months=360)


def synthetic_loan(index: int) -> SyntheticLoan:
    rng = random.Random(index)  # seeded synthetic data, not a secret # nosec B311
    return SyntheticLoan(index=index, balance_cents=rng.randrange(80_000, 600_000) * 100 + rng.randrange(100),
                         note_rate=rng.choice(RATES), fee_rate=rng.choice(FEE_RATES),
                         escrow_cents=rng.randrange(150, 900) * 100)


def tape_chunks(loans: range, calendar: BenchCalendar, chunk: int) -> Iterator[bytes]:
    """Loan tapes of at most `chunk` loans each, in the README's tape format."""
    for start in range(loans.start, loans.stop, chunk):
        lines = [",".join(TAPE_COLUMNS)]
        for index in range(start, min(start + chunk, loans.stop)):
            loan = synthetic_loan(index)
            value = dollars(loan.balance_cents * 5 // 4)
            lines.append(
                f"{loan.number},Borrower {index + 1},{index + 1} Elm St Springfield,residential,{value},"
                f"{dollars(loan.balance_cents)},,{loan.note_rate},360,{calendar.first_due.isoformat()},,"
                f"{loan.fee_rate},{dollars(loan.escrow_cents)},false"
            )
        yield ("\n".join(lines) + "\n").encode()


def deal_file(shape: Shape, trust: int, calendar: BenchCalendar) -> bytes:
    """One trust's deal file: a pass-through (even trusts) or a four-class sequential deal (odd)."""
    loans = [synthetic_loan(i) for i in shape.trust_loans(trust)]
    pool = sum(loan.balance_cents for loan in loans)
    classes = _classes(pool, sequential=trust % 2 == 1)
    holders = _holdings(shape, trust, classes)
    day = calendar.boarded_on.isoformat()
    return json.dumps({
        "code": trust_code(trust), "name": f"Bench Mortgage Trust {trust + 1}", "issuer": "Bench Issuer",
        "servicer": "Bench Servicer", "trustee": "Bench Trustee", "closing_date": day, "cutoff_date": day,
        "first_payment_date": calendar.trust_first_payment.isoformat(), "payment_day": 25,
        "issuer_spread_rate": "0.2", "remittance_type": "actual/actual", "purchase_price_percent": "100",
        "residual_holder": "Bench Issuer", "loans": [loan.number for loan in loans],
        "classes": [{"name": name, "face": dollars(face), "coupon": coupon, "principal": rule,
                     "priority": priority, "denomination": "0.01"}
                    for name, face, coupon, rule, priority in classes],
        "holders": holders,
    }).encode()


def _classes(pool: int, *, sequential: bool) -> list[tuple[str, int, str, str, int]]:
    if not sequential:
        return [("A", pool, "net-wac", "pro-rata", 1)]
    shares = (("A1", 30, "4.0"), ("A2", 45, "4.5"), ("M", 15, "5.0"))
    faces = [(name, pool * share // 100, coupon) for name, share, coupon in shares]
    faces.append(("B", pool - sum(face for _, face, _ in faces), "5.25"))
    return [(name, face, coupon, "sequential", priority) for priority, (name, face, coupon) in enumerate(faces, 1)]


def _holdings(shape: Shape, trust: int, classes) -> list[dict]:
    """The trust's holdings spread over its classes, each class's face split exactly among its holders."""
    count = shape.trust_holdings(trust)
    rng = random.Random(f"holders-{trust}")  # seeded synthetic data, not a secret # nosec B311
    holders = []
    for position, (name, face, *_) in enumerate(classes):
        per_class = count // len(classes) + (1 if position < count % len(classes) else 0)
        if per_class == 0:
            continue
        codes = sorted({investor_code(rng.randrange(shape.investors)) for _ in range(per_class)})
        weights = [rng.randrange(1, 100) for _ in codes]
        left = face
        for number, (code, weight) in enumerate(zip(codes, weights)):
            held = left if number == len(codes) - 1 else face * weight // sum(weights)
            left -= held
            holders.append({"code": code, "name": f"Investor {code[5:]}", "class": name, "face": dollars(held)})
    return holders


def behaviour(index: int) -> str:
    """What the loan's borrower does this month: on time, missed, partial, curtailment or payoff."""
    draw = random.Random(f"pay-{index}").random()  # seeded synthetic data, not a secret # nosec B311
    for kind, share in MIX:
        if draw < share:
            return kind
        draw -= share
    return "on_time"


def payment_amount_cents(loan: SyntheticLoan, kind: str) -> int | None:
    """The amount the borrower sends for the first installment (None: nothing this month)."""
    installment = loan.payment_cents + loan.escrow_cents
    if kind == "missed":
        return None
    if kind == "partial":
        return installment // 2
    if kind == "curtailment":
        return installment + 50_000
    if kind == "payoff":
        # More than the payoff quote (principal and a month's interest): the excess is refunded.
        interest, _ = scheduled_split(balance_cents=loan.balance_cents, note_rate=loan.note_rate,
                                      payment_cents=loan.payment_cents)
        return loan.balance_cents + 2 * interest + 10_000
    return installment


def payment_file_chunks(loans: range, calendar: BenchCalendar, chunk: int) -> Iterator[bytes]:
    """The month's lockbox files, at most `chunk` rows each, in the README's payment file format."""
    received = calendar.first_due + timedelta(days=4)
    for start in range(loans.start, loans.stop, chunk):
        lines = ["loan_number,received_on,amount,reference"]
        for index in range(start, min(start + chunk, loans.stop)):
            loan = synthetic_loan(index)
            amount = payment_amount_cents(loan, behaviour(index))
            if amount is not None:
                lines.append(f"{loan.number},{received.isoformat()},{dollars(amount)},"
                             f"LBX-{calendar.period}-{loan.number}")
        yield ("\n".join(lines) + "\n").encode()
