"""Celery task: the daily escrow disbursement (scheduled by migration 0002 at 07:00)."""
from celery import shared_task

from ledger.actors import ESCROW_DISBURSEMENT
from ledger.business_time import parse_as_of
from servicing.services.escrow import escrow_disburse_due


@shared_task(name="servicing.disburse_escrow")
def disburse_escrow_task(as_of: str | None = None) -> dict:
    """Pay escrow installments due on or before as_of (ISO date, default today); safe to run twice."""
    day = parse_as_of(as_of, what="as_of")
    return escrow_disburse_due(as_of=day, acting_user=ESCROW_DISBURSEMENT).as_dict()
