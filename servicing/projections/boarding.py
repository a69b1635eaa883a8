"""LoanPosition handler for LoanBoarded: a loan's first position, from its terms."""
from servicing.events import LoanBoarded
from servicing.models import LoanPosition, LoanStatus
from servicing.projections import handles, loan_number_of


@handles(LoanBoarded.event_type, creates=True)
def on_loan_boarded(position, event):
    terms = LoanBoarded.from_payload(event.payload)
    return LoanPosition(
        loan_id=loan_number_of(event),
        status=LoanStatus.ACTIVE,
        principal_balance_cents=terms.current_balance_cents,
        note_rate=terms.note_rate,
        payment_pi_cents=terms.payment_pi_cents,
        escrow_monthly_cents=terms.escrow_monthly_cents,
        next_due_date=terms.next_due_date,
        balloon_due_date=terms.balloon_due_date,
        terms_changes=[],
        stream_version=event.version,
        last_position=event.position,
    )
