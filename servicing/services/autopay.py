"""Autopay: one installment drafted from each loan on autopay that is due, posted as a payment.

The draft is an ordinary payment (`servicing.services.payments.payment_post`)
under the reference "autopay:<loan>:<due date>", so it posts once however
often the schedule runs (`servicing.tasks.autopay`).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from ledger.business_time import require_not_future
from ledger.models import Event
from servicing.errors import ServicingError
from servicing.models import LoanPosition, LoanStatus, loan_stream
from servicing.services.payments import payment_post

log = logging.getLogger(__name__)


@dataclass
class AutopayResult:
    as_of: date
    posted: list[str] = field(default_factory=list)  # references
    already_drafted: list[str] = field(default_factory=list)  # loan numbers
    failed: list[str] = field(default_factory=list)  # "loan: reason"


def autopay_drafts_post(*, as_of: date, acting_user=None) -> AutopayResult:
    """Draft one installment (P&I plus escrow) from each active autopay loan due on or before `as_of`.

    The reference is "autopay:<loan>:<due date>", so a draft posts once; a
    loan drafted on `as_of` already is skipped, so a second run on the same
    day drafts nothing even for a loan still behind. Not one transaction on
    purpose: each draft commits on its own (payment_post is atomic), so one
    refused loan does not hold back the others, and a re-run is safe.
    """
    require_not_future("autopay drafts as of", as_of)
    result = AutopayResult(as_of=as_of)
    due = LoanPosition.objects.filter(loan__autopay=True, status=LoanStatus.ACTIVE, next_due_date__lte=as_of)
    drafted_today = set(Event.objects.filter(idempotency_key__startswith="payment:autopay:", effective_date=as_of)
                        .values_list("stream", flat=True))
    for position in due.order_by("loan_id"):
        loan = position.loan_id
        reference = f"autopay:{loan}:{position.next_due_date.isoformat()}"
        if loan_stream(loan) in drafted_today or Event.objects.filter(idempotency_key=f"payment:{reference}").exists():
            result.already_drafted.append(loan)
            continue
        try:
            payment_post(loan_number=loan, amount_cents=position.payment_pi_cents + position.escrow_monthly_cents,
                         received_on=as_of, reference=reference, acting_user=acting_user)
            result.posted.append(reference)
        except ServicingError as refused:
            log.warning("autopay draft %s not posted: %s", reference, refused)
            result.failed.append(f"{loan}: {refused}")
    return result
