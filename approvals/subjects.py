"""What a request is about, checked when it is asked for, and the payments a reversal can name.

A request is refused at once when the service that would carry it out
refuses it now: the requester hears it while they are still at the desk,
rather than the approver hours later. The services check again when the
act runs, so nothing here is the last word.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from approvals.errors import RequestRefused
from ledger import business_time
from ledger.events import class_for
from ledger.models import Event
from remittance.domain.trust_calendar import Period
from remittance.errors import CloseRefused
from remittance.models import PeriodResult
from remittance.services.closing import close_request_check
from servicing.errors import ServicingError
from servicing.events import PaymentPosted, PaymentReturned, loan_fact
from servicing.models import loan_stream
from servicing.services.loss_mitigation import ModificationTerms, loan_modify_check
from servicing.services.payment_returns import payment_return_check
from trusts.models import Trust


def closable_period(trust_code: str, period: str, today: date | None = None) -> tuple[Trust, Period]:
    """The trust and period, if a close of it could run today; refuses otherwise."""
    trust = Trust.objects.filter(code=trust_code).first()
    if trust is None:
        raise RequestRefused(f"no trust {trust_code!r}")
    try:
        month = Period.parse(period)
    except (TypeError, ValueError) as error:
        raise RequestRefused(str(error)) from None
    if PeriodResult.objects.filter(trust=trust, period=str(month)).exists():
        raise RequestRefused(f"{trust.code} {month} is already closed")
    try:
        close_request_check(trust, month, today or business_time.today())
    except CloseRefused as refused:
        raise RequestRefused(str(refused)) from None
    return trust, month


def returnable_payment(*, loan_number: str, reference: str, returned_on: date, reason: str) -> str:
    """The payment's reference as posted, if payment_return would record its return now; refuses otherwise."""
    try:
        original = payment_return_check(loan_number=loan_number, reference=reference, returned_on=returned_on,
                                        reason=reason)
    except ServicingError as refused:
        raise RequestRefused(str(refused)) from None
    return loan_fact(original).reference


@dataclass(frozen=True, slots=True)
class PostedPayment:
    reference: str
    received_on: str
    amount_cents: int


def payments_standing(loan_number: str) -> list[PostedPayment]:
    """The loan's posted payments not yet returned, newest first: what a reversal may name."""
    rows = Event.objects.filter(stream=loan_stream(loan_number),
                                event_type__in=(PaymentPosted.event_type, PaymentReturned.event_type))
    posted, returned = [], set()
    for event_type, payload in rows.order_by("-version").values_list("event_type", "payload"):
        fact = class_for(event_type).from_payload(payload)
        if isinstance(fact, PaymentReturned):
            returned.add(fact.reference)
        else:
            posted.append(PostedPayment(fact.reference, fact.received_on.isoformat(), fact.amount_cents))
    return [p for p in posted if p.reference not in returned]


def forgivable_modification(*, loan_number: str, terms: ModificationTerms) -> None:
    """Refuses a forgiveness request whose modification loan_modify would refuse now (or forgives nothing)."""
    if not terms.forgiven_cents:
        raise RequestRefused(f"loan {loan_number}: the modification forgives nothing; it needs no approval")
    try:
        loan_modify_check(loan_number=loan_number, terms=terms)
    except ServicingError as refused:
        raise RequestRefused(str(refused)) from None


def terms_payload(terms: ModificationTerms) -> dict:
    """The terms as the request keeps them (JSON: ISO dates, the rate as text, cents)."""
    return {"modified_on": terms.modified_on.isoformat(), "note_rate": str(terms.note_rate),
            "term_months": terms.term_months, "first_payment_date": terms.first_payment_date.isoformat(),
            "principal_forbearance_cents": terms.principal_forbearance_cents, "forgiven_cents": terms.forgiven_cents}


def terms_of(payload: dict) -> ModificationTerms:
    return ModificationTerms(
        modified_on=date.fromisoformat(payload["modified_on"]), note_rate=Decimal(payload["note_rate"]),
        term_months=payload["term_months"], first_payment_date=date.fromisoformat(payload["first_payment_date"]),
        principal_forbearance_cents=payload["principal_forbearance_cents"], forgiven_cents=payload["forgiven_cents"])
