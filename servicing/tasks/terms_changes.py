"""The daily changes of terms: ARM rate changes and interest-only ends due, each recorded once.

Thin: parses the date and calls the service, which is idempotent (one change per loan and first due
date), so a redelivered task has no second effect.
"""
from celery import shared_task

from ledger.actors import TERMS_CHANGES
from ledger.business_time import parse_as_of
from servicing.services.terms_changes import terms_changes_record


@shared_task(name="servicing.record_terms_changes")
def record_terms_changes(as_of: str | None = None) -> dict:
    """Record the changes of terms due by `as_of` (an ISO date; default today in the servicer's time zone)."""
    day = parse_as_of(as_of, what="as_of")
    result = terms_changes_record(as_of=day, acting_user=TERMS_CHANGES)
    return {"as_of": day.isoformat(), "recorded": len(result.recorded), "waiting": result.waiting,
            "refused": result.refused}
