"""The reference rows of servicing as read models: Borrower, Property, Loan and EscrowItem.

A LoanBoarded event carries every term of the tape, so the loan, its borrower
and its property are written here, in the append's transaction, and a rebuild
writes them again from the log. The surrogate keys are deterministic: the
borrower and property of a loan take the log position of its LoanBoarded
event as their id, an escrow item that of its EscrowItemAdded event, so a
replay reproduces every row, keys and foreign keys included.

Other apps' rows point at Loan without a database constraint (trusts.PoolLoan,
LoanPosition, CollectionLine), so these tables can be emptied and refilled
beneath them; EscrowItem is emptied before Loan, Loan before its borrower and
property.
"""
from __future__ import annotations

from collections.abc import Sequence

from ledger.bulk import insert_rows
from ledger.projections import Projection
from ledger.domain.records import RecordedEvent
from servicing.events import EscrowItemAdded, LoanBoarded
from servicing.models import Borrower, EscrowItem, Loan, Property
from servicing.projections import loan_number_of


class LoanReferenceProjection(Projection):
    name = "servicing.loans"
    event_types = frozenset({LoanBoarded.event_type, EscrowItemAdded.event_type})
    models = (EscrowItem, Loan, Borrower, Property)
    # Every key is deterministic (see the module docstring): nothing is left out of the comparison.
    unstable_fields = frozenset()

    def apply(self, events: Sequence[RecordedEvent]) -> None:
        boarded = [(e, LoanBoarded.from_payload(e.payload)) for e in events
                   if e.event_type == LoanBoarded.event_type and e.stream.startswith("loan:")]
        if boarded:
            # bulk_create, not insert_rows: its COPY leaves out auto keys, and these keys are given.
            Borrower.objects.bulk_create([Borrower(id=e.position, name=t.borrower_name) for e, t in boarded],
                                         batch_size=2000)
            Property.objects.bulk_create([
                Property(id=e.position, address=t.property_address, property_type=t.property_type,
                         value_cents=t.property_value_cents) for e, t in boarded], batch_size=2000)
            insert_rows(Loan, [_loan(e, t) for e, t in boarded])
        items = [_item(e) for e in events if e.event_type == EscrowItemAdded.event_type and e.stream.startswith("loan:")]
        if items:
            EscrowItem.objects.bulk_create(items)


def _loan(event: RecordedEvent, terms: LoanBoarded) -> Loan:
    return Loan(
        loan_number=terms.loan_number, borrower_id=event.position, property_id=event.position,
        original_balance_cents=terms.original_balance_cents, boarded_balance_cents=terms.current_balance_cents,
        note_rate=terms.note_rate, term_months=terms.term_months, first_payment_date=terms.first_payment_date,
        servicing_fee_rate=terms.servicing_fee_rate, payment_pi_cents=terms.payment_pi_cents,
        autopay=terms.autopay, boarded_on=event.effective_date, product=terms.loan_terms.product,
        interest_only_months=terms.loan_terms.interest_only_months,
    )


def _item(event: RecordedEvent) -> EscrowItem:
    fact = EscrowItemAdded.from_payload(event.payload)
    return EscrowItem(id=event.position, loan_id=loan_number_of(event), kind=fact.kind, payee=fact.payee,
                      annual_amount_cents=fact.annual_amount_cents,
                      due_dates=[d.isoformat() for d in fact.due_dates])
