"""Celery task: the daily delinquency aging and late charges (scheduled by migration 0002 at 01:00)."""
from datetime import date

from celery import shared_task
from django.utils import timezone

from servicing.services.delinquency import loans_age


@shared_task(name="servicing.age_loans")
def age_loans_task(as_of: str | None = None) -> dict:
    """Age every active loan on as_of (ISO date, default today); safe to run twice."""
    day = date.fromisoformat(as_of) if as_of else timezone.localdate()
    return loans_age(as_of=day).as_dict()
