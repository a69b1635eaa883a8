"""The daily autopay draft: one installment from each autopay loan that is due.

Thin: parses the date and calls the service; the service is idempotent (one
draft per loan and due date, none twice on one day), so a redelivered task
has no second effect. Scheduled in the database by servicing migration 0002.
"""
from celery import shared_task

from ledger.business_time import parse_as_of
from servicing.services.autopay import autopay_drafts_post


@shared_task(name="servicing.post_autopay_drafts")
def post_autopay_drafts(as_of: str | None = None) -> dict:
    """Post the autopay drafts due on `as_of` (an ISO date; default today in the servicer's time zone)."""
    day = parse_as_of(as_of, what="as_of")
    result = autopay_drafts_post(as_of=day)
    return {"as_of": day.isoformat(), "posted": result.posted, "already_drafted": result.already_drafted,
            "failed": result.failed}
