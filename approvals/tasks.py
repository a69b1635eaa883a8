"""The close's outcome, reported back to the approval request that enqueued it.

`approvals.acts.close_enqueue` links these to `remittance.close_period`: the
first gets the task's answer, the second runs in the worker when the task
fails for good. Both are idempotent: a request settles once.
"""
from celery import shared_task

from approvals.outcomes import close_failure_record, close_outcome_record


@shared_task(name="approvals.record_close_outcome")
def record_close_outcome(answer: dict, request_id: int) -> None:
    close_outcome_record(request_id=request_id, answer=answer)


@shared_task(name="approvals.record_close_failure")
def record_close_failure(task_request, exc, traceback, request_id: int) -> None:
    # Called in the worker with the failed task's request, its exception and traceback.
    close_failure_record(request_id=request_id, error=f"{type(exc).__name__}: {exc}")
