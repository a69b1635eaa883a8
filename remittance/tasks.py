"""Celery tasks of the month-end close: one trust and period, a group of trusts, the monthly fan-out, the reconciler.

Thin wrappers of the closing service. A close is idempotent by design (a
second one answers "already closed" and pays nothing), so a redelivered or
duplicated task has one business effect; a close another worker is running
is retried later rather than waited on.

Who acts (ledger.actors): a close enqueued by an approved request names the
requester and the approver, and the service checks the approval; one that
names nobody is the schedule's (SCHEDULER); the reconciler closes as the
RECONCILER. A close naming a requester without an approver is refused.
An as_of given to a task may not be after today (ledger.business_time).
"""
from __future__ import annotations

from datetime import date

from celery import chain, shared_task, signature
from django.contrib.auth import get_user_model
from django.db import InterfaceError, OperationalError, transaction

from ledger.actors import SCHEDULER, Actor
from ledger.business_time import BusinessDateError, parse_as_of, require_not_future, today
from ledger.hooks import reached
from remittance.domain.trust_calendar import Period
from remittance.errors import CloseInProgress, CloseRefused, PeriodAlreadyClosed
from remittance.services.closing import (
    close_groups, month_end_prepare, overdue_periods_close, period_close, periods_due, trusts_close,
)
from remittance.selectors.period_summary import outcome_summary


# A close the database dropped under it (a restart, a failover) was rolled back whole: retry it, not ack it as done.
@shared_task(name="remittance.close_period", bind=True, max_retries=30,
             autoretry_for=(OperationalError, InterfaceError), retry_backoff=2, retry_backoff_max=60)
def close_period_task(self, trust_code: str, period: str, as_of: str | None = None,
                      requested_by: int | None = None, approved_by: int | None = None) -> dict:
    """Close one trust's period; the answer says closed, already closed or refused (and why).

    requested_by is the id of the login that asked for it, approved_by the id of the second
    staff member who approved the request (four eyes; approvals.acts enqueues both). Both are
    named on the events. Naming neither is the schedule's close (its fan-out, the operator's
    command); naming a requester alone is refused, as the service refuses a person alone.
    """
    try:
        outcome = period_close(trust_code=trust_code, period=period, acting_user=_actor(requested_by, approved_by),
                               approved_by=_login(approved_by), as_of=_as_of(as_of))
    except BusinessDateError as wrong:
        return {"trust": trust_code, "period": period, "status": "refused", "message": str(wrong)}
    except PeriodAlreadyClosed as done:
        return {"trust": trust_code, "period": period, "status": "already closed", "message": str(done)}
    except CloseInProgress as busy:
        raise self.retry(exc=busy, countdown=15) from None
    except CloseRefused as refused:
        return {"trust": trust_code, "period": period, "status": "refused", "message": str(refused)}
    reached("close:committed")  # tests kill the worker here: the close committed, its message not yet acked
    return {"status": "closed", **outcome_summary(outcome.result)}


def _actor(requested_by: int | None, approved_by: int | None) -> Actor | None:
    """The schedule when the message names nobody; else the requester's login, for the service to check."""
    if requested_by is None and approved_by is None:
        return SCHEDULER
    return _login(requested_by)


def _login(user_id: int | None):
    return get_user_model().objects.filter(pk=user_id).first() if user_id else None


def _as_of(text: str | None) -> date | None:
    # None stays None: the service takes today at the moment it runs.
    return parse_as_of(text, what="as_of") if text else None


# The schedule's close of a group of trusts (the month-end's fan-out): as close_period_task, for many at once.
@shared_task(name="remittance.close_trust_group", bind=True, max_retries=30,
             autoretry_for=(OperationalError, InterfaceError), retry_backoff=2, retry_backoff_max=60)
def close_trust_group_task(self, trust_codes: list[str], period: str, as_of: str | None = None) -> dict:
    """Close a group of trusts' period as the schedule; the answer lists each trust's outcome.

    The trusts whose close another worker is running are asked again later, as a group of their own.
    """
    try:
        outcome = trusts_close(trust_codes=trust_codes, period=period, acting_user=SCHEDULER, as_of=_as_of(as_of))
    except (BusinessDateError, CloseRefused) as refused:
        return {"trusts": trust_codes, "period": period, "status": "refused", "message": str(refused)}
    reached("close:committed")  # tests kill the worker here: the closes committed, the message not yet acked
    if outcome.busy:
        raise self.retry(args=(outcome.busy, period, as_of), countdown=15)
    return outcome.as_dict()


@shared_task(name="remittance.close_trusts")
def close_trusts_task(period: str, as_of: str | None = None) -> dict:
    """Enqueue the closes of the trusts whose period is due, in groups, once this transaction has committed."""
    month_end_prepare()
    codes = periods_due(period=Period.parse(period))
    groups = close_groups(codes)
    for group in groups:
        transaction.on_commit(lambda group=group: close_trust_group_task.delay(group, period, as_of))
    reached("month-end:enqueued")  # tests kill the worker here: the closes enqueued, the fan-out not yet acked
    return {"period": period, "enqueued": codes, "groups": groups}


@shared_task(name="remittance.month_end_close")
def month_end_close_task(period: str | None = None, as_of: str | None = None) -> str:
    """The month-end: the servicer's daily jobs for the period's end first, then a close per trust.

    period defaults to the month before today (the schedule runs early in the next month); as_of
    (ISO date, default today) is the day the closes take as today.
    """
    closing = Period.parse(period) if period else Period.containing(today()).previous()
    # Never age loans or post drafts on a day still to come, nor close with a future as_of.
    last_day = require_not_future(f"the last day of {closing}", closing.last_day).isoformat()
    if as_of:
        parse_as_of(as_of, what="as_of")
    workflow = chain(
        # By name: remittance runs servicing's registered tasks without importing their modules.
        signature("servicing.age_loans", args=(last_day,), immutable=True),
        signature("servicing.post_autopay_drafts", args=(last_day,), immutable=True),
        close_trusts_task.si(str(closing), as_of),
    )
    return workflow.apply_async().id


@shared_task(name="remittance.close_due_periods")
def close_due_periods_task(as_of: str | None = None) -> dict:
    """The reconciler: close every period due by as_of (ISO date, default today) that is not closed.

    Scheduled daily after the month-end (remittance migration 0004): it catches a close the
    month-end missed (a lost message, a worker killed mid-close, a refusal since put right),
    each trust's periods in order; the answer lists what it closed, resumed and held.
    """
    return overdue_periods_close(today=parse_as_of(as_of, what="as_of")).as_dict()
