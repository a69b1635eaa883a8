"""Celery tasks of the ledger: the nightly proof that the log is whole."""
import logging

from celery import shared_task

from ledger.verification import verify

log = logging.getLogger(__name__)


@shared_task(name="ledger.verify_ledger")
def verify_ledger_task() -> dict:
    """Run verify_ledger; a failure is logged as an error for the on-call to see."""
    report = verify()
    summary = {"ok": report.ok, "events": report.events, "streams": report.streams, "problems": report.problems[:20]}
    if report.ok:
        log.info("ledger verified: %s events on %s streams", report.events, report.streams)
    else:
        log.error("ledger NOT verified: %s problem(s); first: %s", len(report.problems), report.problems[0])
    return summary
