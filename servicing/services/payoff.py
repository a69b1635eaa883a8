"""Payoff: the quote for a day, and the events that record a loan paid off.

The money math is `servicing.domain.payoff_quotes` (pure). This module adapts a stored
LoanPosition to it and turns a settlement into double-entry events:

- LoanPaidOff: cash in; principal, accrued interest, late charges, fees,
  any escrow advance and any deferred (non-interest-bearing) principal cleared; escrow balance and suspense applied; whatever
  exceeds the payoff credited to the borrower's refund account.
- BorrowerRefundPaid (only when there is an excess): the refund paid out of
  custodial cash, so the excess is visibly returned, never swallowed.

Why the escrow advance is netted against the escrow balance: the pure quote
has no line for money the servicer advanced to pay escrow bills, yet the
borrower owes it at payoff. Netting (and quoting any excess advance among
fees) makes the quote's total exact; the postings still clear each account
gross.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date

from ledger.domain.records import NewEvent, PostingLine
from servicing.domain import accounts
from servicing.events import BorrowerRefundPaid, Collections, LoanPaidOff, PayoffSettled
from servicing.models import LoanPosition
from servicing.domain.loan_terms import steps_from_json
from servicing.domain.money_position import MoneyPosition
from servicing.domain.payoff_quotes import PayoffQuote, PayoffSettlement, payoff_quote, settle_payoff
from servicing.services.loan_events import open_position
from servicing.services.payment_requests import PaymentRequest


def money_position(position: LoanPosition, *, for_payoff: bool = False) -> MoneyPosition:
    """The stored position as the pure money modules take it.

    For payment application the escrow advance stays out (the service repays it
    from the escrow part of installments); for a payoff it is netted in (see
    the module docstring).
    """
    money = MoneyPosition(
        principal_balance_cents=position.principal_balance_cents,
        note_rate=position.note_rate,
        payment_pi_cents=position.payment_pi_cents,
        escrow_monthly_cents=position.escrow_monthly_cents,
        next_due_date=position.next_due_date,
        suspense_cents=position.suspense_cents,
        late_charges_due_cents=position.late_charges_due_cents,
        fees_due_cents=position.fees_due_cents,
        escrow_balance_cents=position.escrow_balance_cents,
        balloon_due_date=position.balloon_due_date,
        terms_timeline=steps_from_json(position.terms_changes),
        deferred_principal_cents=position.deferred_principal_cents,
    )
    if not for_payoff or not position.escrow_advance_cents:
        return money  # without an advance the payoff's view is the same position: not built twice
    net_escrow = position.escrow_balance_cents - position.escrow_advance_cents
    return replace(money, escrow_balance_cents=max(net_escrow, 0),
                   fees_due_cents=position.fees_due_cents + max(-net_escrow, 0))


def payoff_quote_get(*, loan_number: str, as_of: date) -> PayoffQuote:
    """The itemized amount that pays the loan off on `as_of` (a read; records nothing)."""
    return payoff_quote(position=money_position(open_position(loan_number), for_payoff=True), as_of=as_of)


def payoff_quote_lines(*, loan_number: str, as_of: date) -> tuple[PayoffQuote, list[tuple[str, int]]]:
    """The quote and its lines for people, with the escrow advance shown apart from fees (gross, not netted)."""
    position = open_position(loan_number)
    quote = payoff_quote(position=money_position(position, for_payoff=True), as_of=as_of)
    lines = [
        ("principal", quote.principal_cents),
        (f"interest ({quote.interest_days} days from {quote.accrual_start.isoformat()})", quote.interest_cents),
        ("late charges", position.late_charges_due_cents),
        ("fees", position.fees_due_cents),
        ("escrow advanced by the servicer", position.escrow_advance_cents),
        ("deferred principal (non-interest-bearing)", position.deferred_principal_cents),
        ("less escrow balance", -position.escrow_balance_cents),
        ("less suspense", -position.suspense_cents),
    ]
    # The gross lines and the netted quote must agree to the cent: checked even under python -O.
    if sum(cents for _, cents in lines) != quote.total_cents:
        raise AssertionError(f"payoff lines of {loan_number} do not sum to the quote's {quote.total_cents} cents")
    return quote, lines


def payoff_events(*, position: LoanPosition, request: PaymentRequest) -> tuple[list[NewEvent], PayoffSettlement]:
    """The events recording the payment `request` received as a payoff (the caller checked is_payoff)."""
    loan = position.loan_id
    amount_cents, received_on, reference = request.amount_cents, request.received_on, request.reference
    settlement = settle_payoff(position=money_position(position, for_payoff=True), amount_cents=amount_cents,
                               as_of=received_on)
    refund = settlement.refund_to_borrower_cents
    lines = _postings([
        (accounts.CUSTODIAL_CASH, amount_cents),
        (accounts.principal(loan), -position.principal_balance_cents),
        (accounts.deferred_principal(loan), -position.deferred_principal_cents),
        (accounts.interest(loan), -settlement.interest_cents),
        (accounts.late_charges(loan), -position.late_charges_due_cents),
        (accounts.fees(loan), -position.fees_due_cents),
        (accounts.escrow_advance(loan), -position.escrow_advance_cents),
        (accounts.escrow(loan), position.escrow_balance_cents),
        (accounts.suspense(loan), position.suspense_cents),
        (accounts.borrower_refund(loan), -refund),
    ])
    paid_off = LoanPaidOff(
        loan_number=request.loan_number, reference=request.reference, amount_cents=amount_cents,
        received_on=received_on, principal_only=request.principal_only,
        payoff=_settled(position, settlement),
        collections=Collections(interest_cents=settlement.interest_cents,
                                payoff_principal_cents=position.principal_balance_cents
                                + position.deferred_principal_cents),
    )
    events = [paid_off.new_event(effective_date=received_on, postings=lines, idempotency_key=request.idempotency_key)]
    if refund:
        refunded = BorrowerRefundPaid(loan_number=loan, reference=reference, refund_cents=refund, paid_on=received_on)
        events.append(refunded.new_event(
            effective_date=received_on,
            postings=_postings([(accounts.borrower_refund(loan), refund), (accounts.CUSTODIAL_CASH, -refund)]),
            idempotency_key=f"refund:{reference}",
        ))
    return events, settlement


def _settled(position: LoanPosition, settlement: PayoffSettlement) -> PayoffSettled:
    """The payoff's decision: every balance of the position cleared, the interest and refund as settled."""
    quote = settlement.quote
    return PayoffSettled(
        principal_cents=position.principal_balance_cents,
        interest_cents=settlement.interest_cents,
        interest_days=quote.interest_days,
        accrual_start=quote.accrual_start,
        per_diem_interest=quote.per_diem_interest,
        late_charges_cents=position.late_charges_due_cents,
        fees_cents=position.fees_due_cents,
        escrow_advance_cents=position.escrow_advance_cents,
        escrow_applied_cents=position.escrow_balance_cents,
        suspense_applied_cents=position.suspense_cents,
        quote_total_cents=quote.total_cents,
        refund_to_borrower_cents=settlement.refund_to_borrower_cents,
        deferred_principal_cents=position.deferred_principal_cents,
    )


def _postings(lines: list[tuple[str, int]]) -> tuple[PostingLine, ...]:
    # The ledger refuses zero-cent lines (they record nothing), so amounts not in play are left out.
    return tuple(PostingLine(account, cents) for account, cents in lines if cents)
