"""Delinquency aging and late charges, and the loan-event plumbing the default and escrow services share.

`loans_age` runs daily (Celery task "servicing.age_loans"). For every active
loan it records a `DelinquencyChanged` event only when the MBA bucket
(`servicing.domain.delinquency_status.mba_bucket`) differs from the one recorded, and a
`LateChargeAssessed` event once per unpaid installment whose grace period
has ended. Both are idempotent: the bucket is compared with the position,
and each late charge carries the key f"late:{loan}:{due_date}", so a second
run on the same day records nothing.

Policies:
- Only loans in status active are aged. A loan in foreclosure or REO is
  reported by its status; its debt is accelerated, so no late charges
  accrue on it any more.
- A late charge is assessed only for an installment whose grace period
  ended while we serviced the loan (due date + grace on or after boarding):
  earlier ones were the prior servicer's to assess, and came with the tape.
- No late charge for an installment after the loan's maturity date: there
  is none; what is unpaid then is the matured balance.
- The automatic stay (servicing.services.bankruptcy): no late charge for an
  installment whose grace period ended while a bankruptcy stay was in effect,
  i.e. the stay covered the day the charge would first be owed (due date +
  grace + 1). The bucket still moves: delinquency is reported, not collected.
- Aging as of a day after the business date is refused (ledger.business_time):
  a late charge is never assessed ahead of time.
- No late charge while a forbearance lasts, nor ever on an installment a
  forbearance covered (servicing.services.loss_mitigation).
- Days delinquent are never stored: `loan_days_delinquent` computes them on
  read from the next due date.

"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import transaction

from ledger.actors import Actor
from ledger.domain.records import NewEvent, PostingLine
from ledger.services import append
from ledger.business_time import require_not_future
from ledger.models import Event
from servicing.domain import accounts
from servicing.domain.amortization import maturity_date
from servicing.domain.delinquency_status import days_delinquent, late_charge_cents, late_charge_due, mba_bucket
from servicing.errors import UnknownLoan
from servicing.models import Loan, LoanPosition, LoanStatus, loan_stream
from servicing.domain.loan_terms import steps_from_json, terms_on
from servicing.domain.bankruptcy import Cases
from servicing.events import DelinquencyChanged, ForbearanceStarted, LateChargeAssessed, loan_fact
from servicing.services.bankruptcy import BANKRUPTCY_EVENT_TYPES, cases_after
from servicing.services.loan_events import existing_keys, folded, with_retries
from servicing.domain.loss_mitigation import FORBEARANCE

# ---- reads -----------------------------------------------------------------------------------------


def loan_days_delinquent(position: LoanPosition, as_of: date) -> int:
    """Calendar days since the oldest unpaid due date (Regulation X's day count); 0 when current."""
    return days_delinquent(next_due_date=position.next_due_date, as_of=as_of)


def late_charge_policy() -> tuple[Decimal, int]:
    """(percent of P&I, grace days) from settings, defaulting to 5% and 15 days."""
    percent = Decimal(str(getattr(settings, "SERVICING_LATE_CHARGE_PERCENT", "5")))
    grace = int(getattr(settings, "SERVICING_GRACE_DAYS", 15))
    return percent, grace


def unpaid_due_dates(position: LoanPosition, as_of: date, *, maturity: date | None = None) -> list[date]:
    """Due dates of the installments still unpaid on `as_of`, oldest first, none after the maturity date.

    After maturity there are no more installments to be late on: what is unpaid is the matured balance.
    """
    last = as_of if maturity is None else min(as_of, maturity)
    dates, k = [], 0
    while (due := position.next_due_date + relativedelta(months=k)) <= last:
        dates.append(due)
        k += 1
    return dates


# ---- aging -----------------------------------------------------------------------------------------


@dataclass
class AgingResult:
    as_of: date
    loans_aged: int = 0
    bucket_changes: dict[str, str] = field(default_factory=dict)  # loan -> new bucket
    late_charges: int = 0
    late_charges_cents: int = 0

    def as_dict(self) -> dict:
        return {**asdict(self), "as_of": self.as_of.isoformat()}


def loans_age(*, as_of: date, acting_user: Actor) -> AgingResult:
    """Age every active loan on `as_of`: bucket changes and late charges, each recorded once.

    Each loan commits on its own (a daily job over thousands of loans should
    not hold one long transaction); the idempotency makes a rerun after a
    crash finish the rest without doubling anything.
    """
    require_not_future("aging as of", as_of)
    result = AgingResult(as_of=as_of)
    active = LoanPosition.objects.filter(status=LoanStatus.ACTIVE).order_by("loan_id")
    for loan_number in list(active.values_list("loan_id", flat=True)):
        loan_age(loan_number=loan_number, as_of=as_of, acting_user=acting_user, result=result)
        result.loans_aged += 1
    return result


@transaction.atomic
def loan_age(*, loan_number: str, as_of: date, acting_user: Actor, result: AgingResult | None = None) -> list:
    """Age one loan on `as_of`; returns the events recorded (none when nothing changed)."""
    require_not_future(f"aging of loan {loan_number} as of", as_of)
    def attempt():
        position = LoanPosition.objects.filter(loan_id=loan_number).first()
        if position is None:
            raise UnknownLoan(loan_number)
        if position.status != LoanStatus.ACTIVE:
            return []  # closed or in default since it was listed: nothing to age
        events = _aging_events(position, as_of)
        if not events:
            return []
        return append(stream=loan_stream(loan_number), expected_version=position.stream_version,
                      events=events, acting_user=acting_user)

    recorded = with_retries(attempt)
    if result is not None:
        for event in recorded:
            fact = loan_fact(event)
            if isinstance(fact, DelinquencyChanged):
                result.bucket_changes[loan_number] = fact.to_bucket
            elif isinstance(fact, LateChargeAssessed):
                result.late_charges += 1
                result.late_charges_cents += fact.amount_cents
    return recorded


def _aging_events(position: LoanPosition, as_of: date) -> list[NewEvent]:
    events = []
    bucket = mba_bucket(next_due_date=position.next_due_date, as_of=as_of)
    if bucket != position.delinquency_bucket:
        changed = DelinquencyChanged(from_bucket=position.delinquency_bucket, to_bucket=bucket,
                                     next_due_date=position.next_due_date,
                                     days_delinquent=loan_days_delinquent(position, as_of))
        events.append(changed.new_event(effective_date=as_of))
        position = folded(position, changed)
    return events + _late_charge_events(position, as_of)


def _relief_history(loan_number: str) -> tuple[set[date], Cases]:
    """The installments any forbearance covered, and the loan's bankruptcy cases: one read of its stream.

    Bankruptcy facts are folded by bankruptcy's own rules (as bankruptcy.loan_cases does); the two are
    read together because aging asks both of every loan that owes a late charge.
    """
    covered: set[date] = set()
    cases = Cases()
    kinds = (ForbearanceStarted.event_type, *BANKRUPTCY_EVENT_TYPES)
    for event in (Event.objects.filter(stream=loan_stream(loan_number), event_type__in=kinds)
                  .order_by("version").only("event_type", "payload")):
        fact = loan_fact(event)
        if isinstance(fact, ForbearanceStarted):
            covered.update(fact.covered_due_dates)
        else:
            cases = cases_after(cases, fact)
    return covered, cases


def _late_charge_events(position: LoanPosition, as_of: date) -> list[NewEvent]:
    percent, grace = late_charge_policy()
    loan = Loan.objects.only("boarded_on", "first_payment_date", "term_months").get(loan_number=position.loan_id)
    boarded_on = loan.boarded_on
    maturity = maturity_date(first_payment_date=loan.first_payment_date, term_months=loan.term_months)
    owed = [
        due for due in unpaid_due_dates(position, as_of, maturity=maturity)
        if late_charge_due(due_date=due, as_of=as_of, grace_days=grace)
        and due + timedelta(days=grace) >= boarded_on
    ]
    if owed and position.loss_mitigation == FORBEARANCE:
        return []
    if owed:  # the relief history is read only for a loan with charges to assess
        covered, cases = _relief_history(position.loan_id)
        owed = [due for due in owed if due not in covered and cases.stay_on(due + timedelta(days=grace + 1)) is None]
    keys = {due: f"late:{position.loan_id}:{due.isoformat()}" for due in owed}
    done = existing_keys(list(keys.values()))
    steps = steps_from_json(position.terms_changes)
    events = []
    for due in owed:
        # On the P&I of the installment late (an ARM's or an interest-only loan's differs from change to change).
        _, payment_pi = terms_on(steps, due, position.note_rate, position.payment_pi_cents)
        amount = late_charge_cents(payment_pi_cents=payment_pi, rate_percent=percent)
        if keys[due] in done or amount == 0:
            continue
        charge = LateChargeAssessed(due_date=due, amount_cents=amount, rate_percent=percent, grace_days=grace,
                                    payment_pi_cents=payment_pi)
        events.append(charge.new_event(
            effective_date=as_of, idempotency_key=keys[due],
            postings=(PostingLine(accounts.late_charges(position.loan_id), amount),
                      PostingLine(accounts.LATE_CHARGE_INCOME, -amount)),
        ))
        position = folded(position, charge)
    return events
