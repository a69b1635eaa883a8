"""A plain reference model of the back office, for the stateful property test.

It knows only what a trustee's spreadsheet would: which loans are on the
books and what principal each still owes, which payments stand, who holds
which bonds from which settlement date, which periods are closed, and the
money that must be where (custodial cash, the open period's collections).
The test drives the real services and holds them to this model after every
step; the model never reads the read models it is compared with.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from remittance.domain.trust_calendar import Period

PRINCIPAL_KINDS = ("scheduled_principal_cents", "curtailment_cents", "payoff_principal_cents")


def months_before(period: Period, count: int) -> Period:
    for _ in range(count):
        period = period.previous()
    return period


def day_in(period: Period, offset: int, today: date) -> date:
    """A day of `period` `offset` days after its first, never after its last day nor after today."""
    return min(period.first_day + timedelta(days=offset), period.last_day, today)


@dataclass
class LoanModel:
    number: str
    boarded_on: date
    balance_cents: int
    installment_cents: int
    tape_row: dict
    in_trust: bool
    paid_off: bool = False
    last_event: int = 0  # position of the loan's latest event: a payment that is last can always be returned


@dataclass
class PaymentModel:
    reference: str
    loan: str
    amount_cents: int
    received_on: date
    principal_only: bool
    position: int
    collections: dict[str, int]
    payoff: bool
    returned: bool = False

    @property
    def principal_cents(self) -> int:
        return sum(self.collections[k] for k in PRINCIPAL_KINDS)


@dataclass
class Register:
    """Face held per (class, holder) as movements dated by settlement, like the register's own lines."""

    movements: dict[tuple[str, str], list[tuple[date, int]]] = field(default_factory=dict)

    def move(self, class_name: str, holder: str, day: date, face_cents: int) -> None:
        self.movements.setdefault((class_name, holder), []).append((day, face_cents))

    def held(self, class_name: str, holder: str, as_of: date) -> int:
        return sum(face for day, face in self.movements.get((class_name, holder), []) if day <= as_of)

    def lowest_from(self, class_name: str, holder: str, day: date) -> int:
        """The least the holder holds on `day` or on any later settlement day already registered."""
        days = sorted({d for d, _ in self.movements.get((class_name, holder), []) if d > day})
        return min([self.held(class_name, holder, day)] + [self.held(class_name, holder, d) for d in days])

    def of_record(self, class_name: str, record_date: date) -> dict[str, int]:
        holders = {h for c, h in self.movements if c == class_name}
        held = {h: self.held(class_name, h, record_date) for h in holders}
        return {h: face for h, face in held.items() if face}

    def total(self, class_name: str) -> int:
        return sum(face for (c, _), lines in self.movements.items() if c == class_name for _, face in lines)


@dataclass
class Book:
    """Everything the model expects; updated by the test from what it asked for and what was answered."""

    trust_code: str
    today: date
    open_period: Period
    class_faces: dict[str, int]
    denominations: dict[str, int]
    holders: list[str]
    issued: dict[str, int] = field(default_factory=dict)  # face placed with holders at closing, per class
    loans: dict[str, LoanModel] = field(default_factory=dict)
    payments: dict[str, PaymentModel] = field(default_factory=dict)
    register: Register = field(default_factory=Register)
    closed: list[str] = field(default_factory=list)
    window: Counter = field(default_factory=Counter)  # the open period's net collections of pool loans
    custodial_cents: int = 0
    events: int = 0

    def day(self, offset: int) -> date:
        return day_in(self.open_period, offset, self.today)

    @property
    def can_close(self) -> bool:
        return self.open_period.last_day < self.today

    @property
    def window_interest(self) -> int:
        return self.window["interest_cents"]

    @property
    def window_principal(self) -> int:
        return sum(self.window[k] for k in PRINCIPAL_KINDS)

    def payment_recorded(self, payment: PaymentModel, refund_cents: int) -> None:
        loan = self.loans[payment.loan]
        self.payments[payment.reference] = payment
        loan.balance_cents -= payment.principal_cents
        loan.paid_off = payment.payoff
        loan.last_event = payment.position + (1 if refund_cents else 0)
        self.custodial_cents += payment.amount_cents - refund_cents
        if loan.in_trust:
            self.window.update(payment.collections)

    def payment_returned(self, payment: PaymentModel, position: int) -> None:
        loan = self.loans[payment.loan]
        payment.returned = True
        loan.balance_cents += payment.principal_cents
        loan.last_event = position
        self.custodial_cents -= payment.amount_cents
        if loan.in_trust:
            self.window.subtract(payment.collections)

    def period_closed(self) -> None:
        self.custodial_cents -= self.window_interest + self.window_principal
        self.closed.append(str(self.open_period))
        self.window = Counter()
        self.open_period = self.open_period.next()

    def transfer_refusal(self, class_name: str, from_holder: str, to_holder: str, face_cents: int,
                         trade_date: date, settlement_date: date) -> str | None:
        """Why the register must refuse this transfer, or None when it must accept it."""
        if from_holder == to_holder:
            return "two different holders"
        if face_cents <= 0 or face_cents % self.denominations[class_name]:
            return "denomination"
        if settlement_date < trade_date:
            return "settlement"
        if face_cents > self.register.lowest_from(class_name, from_holder, settlement_date):
            return "holds"
        return None
