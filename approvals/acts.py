"""Carrying out an approved request: enqueue the close, record the payment's return or the modification.

Both acts run through their own services, so every rule of theirs still
holds; the approval adds who asked and who approved, and the services check
it themselves (ledger.actors.four_eyes_problem): a person alone is refused
there too, whoever calls them.
"""
from __future__ import annotations

import logging

from django.db import transaction

from approvals.errors import ActFailed
from approvals.outcomes import close_failure_record
from approvals.tasks import record_close_failure, record_close_outcome
from remittance.tasks import close_period_task
from servicing.errors import ServicingError
from ledger.domain.records import RecordedEvent
from servicing.services.loss_mitigation import ModificationTerms, loan_modify
from servicing.services.payment_returns import ReturnResult, payment_return

log = logging.getLogger(__name__)


def close_enqueue(request, approver) -> None:
    """Enqueue the close once the approval has committed; its outcome comes back to the request.

    The task runs under the requester's and the approver's ids, so the close's events name
    both. Its answer (closed, already closed, refused) or its error settles the request.
    """
    args = (request.trust.code, request.period)
    kwargs = {"requested_by": request.requested_by_id, "approved_by": approver.pk}
    options = {"link": record_close_outcome.s(request_id=request.pk),
               "link_error": record_close_failure.s(request_id=request.pk)}
    transaction.on_commit(lambda: _enqueue(request.pk, args, kwargs, options))


def _enqueue(request_id: int, args: tuple, kwargs: dict, options: dict) -> None:
    try:
        close_period_task.apply_async(args, kwargs, **options)
    except Exception as error:  # noqa: BLE001 - whatever it is, the close did not run and the approval stands
        # The broker was unreachable, or (eager Celery, no broker) the close ran here and failed:
        # either way nothing was closed, so the request says so instead of waiting forever.
        log.exception("the close approved by request #%s did not run", request_id)
        close_failure_record(request_id=request_id, error=f"{type(error).__name__}: {error}")


def reversal_record(request, approver) -> ReturnResult:
    """Record the payment's return now, by the approver, naming the requester; refuses with the reason."""
    try:
        return payment_return(loan_number=request.loan_number, reference=request.reference,
                              returned_on=request.returned_on, reason=request.reason, acting_user=approver,
                              requested_by=request.requested_by)
    except ServicingError as refused:
        raise ActFailed(f"request #{request.pk} was not approved: the return was refused ({refused}); "
                        "nothing was recorded and the request is still pending") from refused


def forgiveness_record(request, approver, terms: ModificationTerms) -> RecordedEvent:
    """Record the modification (with its forgiveness) now, by the approver, naming the requester."""
    try:
        return loan_modify(loan_number=request.loan_number, terms=terms, acting_user=approver,
                           requested_by=request.requested_by)
    except ServicingError as refused:
        raise ActFailed(f"request #{request.pk} was not approved: the modification was refused ({refused}); "
                        "nothing was recorded and the request is still pending") from refused
