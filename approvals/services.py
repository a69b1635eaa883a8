"""Four-eyes: one staff member requests a period close, a payment reversal or a principal forgiveness,
another decides it.

The only writers of `ApprovalRequest`. The rules:
- A request is checked at once against what the service that carries it out
  would refuse now (see `approvals.subjects`), and a subject has at most one
  pending request (also a database constraint).
- The approver is not the requester (also a constraint) and holds the
  permission `approvals.approve_request` (superusers hold every permission).
- Only a pending request is decided; its row is locked while it is, so two
  approvers cannot both approve it.
- Approving a close checks the period again, then enqueues the close once
  this transaction commits: state approved, and the task's outcome makes it
  done or failed (`approvals.outcomes`). Approving a reversal records the
  return now, in this transaction: done, or, if the servicing refuses it,
  nothing written and the request still pending. Approving a forgiveness
  records the modification it belongs to the same way (its terms as asked).
- An act refused at approval (ActFailed) leaves the request pending, for the
  approver to reject with the reason.
"""
from __future__ import annotations

from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone

from approvals.acts import close_enqueue, forgiveness_record, reversal_record
from approvals.errors import ActFailed, DecisionRefused, DuplicateRequest, RequestRefused, UnknownRequest
from approvals.models import ApprovalRequest, Kind, State
from approvals.subjects import closable_period, forgivable_modification, terms_of, terms_payload, returnable_payment
from ledger.domain.money import dollars_grouped
from servicing.events import loan_fact

APPROVE_PERMISSION = "approvals.approve_request"


# --- Requests ----------------------------------------------------------------------------------------------


@transaction.atomic
def close_request(*, trust_code: str, period: str, requested_by) -> ApprovalRequest:
    """Ask for a trust's period to be closed; another staff member must approve it."""
    _require_login(requested_by)
    trust, month = closable_period(trust_code, period)
    return _create(ApprovalRequest(kind=Kind.PERIOD_CLOSE, trust=trust, period=str(month),
                                   requested_by=requested_by))


@transaction.atomic
def reversal_request(*, loan_number: str, reference: str, returned_on: date, reason: str,
                     requested_by) -> ApprovalRequest:
    """Ask for a posted payment to be returned (reversed); another staff member must approve it."""
    _require_login(requested_by)
    loan_number = (loan_number or "").strip()
    reference = returnable_payment(loan_number=loan_number, reference=reference, returned_on=returned_on,
                                   reason=reason)
    return _create(ApprovalRequest(kind=Kind.PAYMENT_REVERSAL, loan_number=loan_number, reference=reference,
                                   returned_on=returned_on, reason=reason.strip(), requested_by=requested_by))


@transaction.atomic
def forgiveness_request(*, loan_number: str, terms, reason: str, requested_by) -> ApprovalRequest:
    """Ask for a modification that forgives principal (`terms`: servicing's ModificationTerms); another
    staff member must approve it, which records the modification."""
    _require_login(requested_by)
    loan_number = (loan_number or "").strip()
    if not isinstance(reason, str) or not reason.strip():
        raise RequestRefused(f"loan {loan_number}: give the reason for forgiving principal (the hardship, the program)")
    forgivable_modification(loan_number=loan_number, terms=terms)
    return _create(ApprovalRequest(kind=Kind.PRINCIPAL_FORGIVENESS, loan_number=loan_number,
                                   amount_cents=terms.forgiven_cents, terms=terms_payload(terms),
                                   reason=reason.strip(), requested_by=requested_by))


def _require_login(user) -> None:
    if not getattr(user, "pk", None) or not user.is_active:
        raise RequestRefused("a request needs the active staff login that asks for it")


def _create(request: ApprovalRequest) -> ApprovalRequest:
    pending = _pending_for(request)
    if pending is not None:
        raise DuplicateRequest(request.subject, pending)
    try:
        with transaction.atomic():
            request.save()
    except IntegrityError:
        # Someone asked for the same subject a moment ago: the database's constraint decided.
        pending = _pending_for(request)
        if pending is None:
            raise
        raise DuplicateRequest(request.subject, pending) from None
    return request


def _pending_for(request: ApprovalRequest) -> ApprovalRequest | None:
    same = ApprovalRequest.objects.filter(kind=request.kind, state=State.PENDING).select_related("requested_by")
    if request.kind == Kind.PERIOD_CLOSE:
        return same.filter(trust=request.trust, period=request.period).first()
    if request.kind == Kind.PRINCIPAL_FORGIVENESS:
        return same.filter(loan_number=request.loan_number).first()
    return same.filter(loan_number=request.loan_number, reference=request.reference).first()


# --- Decisions ----------------------------------------------------------------------------------------------


@transaction.atomic
def request_approve(*, request_id: int, approver) -> ApprovalRequest:
    """Approve a pending request and carry out its act (see the module docstring)."""
    request = _pending_locked(request_id, approver)
    if request.kind == Kind.PERIOD_CLOSE:
        _still_closable(request)
        close_enqueue(request, approver)
        return _decide(request, approver, State.APPROVED,
                       f"approved; the close of {request.subject} is enqueued and runs in the background")
    if request.kind == Kind.PRINCIPAL_FORGIVENESS:
        event = forgiveness_record(request, approver, terms_of(request.terms))
        fact = loan_fact(event)
        return _decide(request, approver, State.DONE,
                       f"modified on {fact.modified_on.isoformat()}: forgave {dollars_grouped(fact.forgiven_cents)}, "
                       f"capitalized {dollars_grouped(fact.missed_interest_cents + fact.escrow_advance_cents + fact.fees_cents)}, "
                       f"new P&I {dollars_grouped(fact.payment_pi_cents)} at {fact.note_rate}% "
                       f"(LoanModified, event {event.position})")
    returned = reversal_record(request, approver)  # refused: ActFailed, this transaction rolls back
    event = returned.event
    fact = loan_fact(event)
    fee = f", returned-payment fee {dollars_grouped(returned.fee_cents)}" if returned.fee_cents else ""
    return _decide(request, approver, State.DONE,
                   f"returned {dollars_grouped(fact.amount_cents)} received on "
                   f"{fact.received_on.isoformat()}{fee} (PaymentReturned, event {event.position})")


def _still_closable(request: ApprovalRequest) -> None:
    # Checked again: the period may have been closed since it was asked for (the month-end schedule).
    try:
        closable_period(request.trust.code, request.period)
    except RequestRefused as refused:
        raise ActFailed(f"request #{request.pk} was not approved: {refused}; reject it instead") from None


@transaction.atomic
def request_reject(*, request_id: int, approver, reason: str) -> ApprovalRequest:
    """Reject a pending request with a reason; nothing else happens."""
    if not isinstance(reason, str) or not reason.strip():
        raise DecisionRefused(f"give the reason for rejecting request #{request_id}")
    request = _pending_locked(request_id, approver)
    return _decide(request, approver, State.REJECTED, f"rejected: {reason.strip()}")


def _pending_locked(request_id: int, approver) -> ApprovalRequest:
    """The request, locked until this transaction ends, if this login may decide it now."""
    _require_permission(approver, request_id)
    request = ApprovalRequest.objects.select_for_update().filter(pk=request_id).first()
    if request is None:
        raise UnknownRequest(request_id)
    if request.requested_by_id == approver.pk:
        raise DecisionRefused(f"request #{request.pk} was asked for by you, {approver.get_username()}; "
                              "another staff member with approval permission must decide it")
    if request.state != State.PENDING:
        raise DecisionRefused(f"request #{request.pk} is no longer pending: it was {request.state} by "
                              f"{request.decided_by.get_username()} at {_when(request.decided_at)}")
    return request


def _require_permission(user, request_id: int) -> None:
    if not getattr(user, "pk", None) or not user.has_perm(APPROVE_PERMISSION):
        name = user.get_username() if getattr(user, "pk", None) else "an anonymous login"
        raise DecisionRefused(f"{name} may not decide request #{request_id}: it needs the permission "
                              "\"Can approve requests of another staff member\"")


def _decide(request: ApprovalRequest, approver, state: str, outcome: str) -> ApprovalRequest:
    request.state, request.decided_by, request.decided_at, request.outcome = state, approver, timezone.now(), outcome
    request.save(update_fields=["state", "decided_by", "decided_at", "outcome"])
    return request


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "?"
