"""Celery task: the daily delinquency aging and late charges (scheduled by migration 0002 at 01:00)."""
from celery import shared_task

from ledger.actors import AGING
from ledger.business_time import parse_as_of
from servicing.services.delinquency import loans_age


@shared_task(name="servicing.age_loans")
def age_loans_task(as_of: str | None = None) -> dict:
    """Age every active loan on as_of (ISO date, default today); safe to run twice."""
    day = parse_as_of(as_of, what="as_of")
    return loans_age(as_of=day, acting_user=AGING).as_dict()
