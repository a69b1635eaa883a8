"""An approved close settles from its task's outcome: done (closed) or failed (refused, or an error).

Written by the tasks linked to the close (`approvals.tasks`). Only a request
still `approved` settles, and only once, so a redelivered answer changes
nothing. Until it settles, the admin shows the period's live status.
"""
from __future__ import annotations

from approvals.models import ApprovalRequest, Kind, State
from ledger.domain.money import dollars_grouped


def close_outcome_record(*, request_id: int, answer: dict) -> None:
    """Done when the period is closed (by this close or one before it); failed when the close was refused."""
    status = answer.get("status")
    if status == "closed":
        state, outcome = State.DONE, (f"closed: {dollars_grouped(answer['paid_to_holders_cents'])} paid in "
                                      f"{answer['holder_payments']} holder payment(s)")
    elif status == "already closed":
        state, outcome = State.DONE, f"{answer.get('message')} (by another close)"
    else:
        state, outcome = State.FAILED, f"close {status}: {answer.get('message')}"
    _settle(request_id, state, outcome)


def close_failure_record(*, request_id: int, error: str) -> None:
    """Failed with the error the close's task ended with (the closing service reopened the period)."""
    _settle(request_id, State.FAILED, f"close failed: {error}"[:2000])


def _settle(request_id: int, state: str, outcome: str) -> None:
    ApprovalRequest.objects.filter(pk=request_id, kind=Kind.PERIOD_CLOSE, state=State.APPROVED).update(
        state=state, outcome=outcome)
