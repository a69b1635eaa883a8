"""The month-end close of one trust for one period: exactly once, all or nothing.

1. Start (its own short transaction, committed): the period's row is created
   or locked without waiting; a closed period answers PeriodAlreadyClosed, a
   row locked by another worker CloseInProgress; otherwise it is marked
   CLOSING, so everyone can see a close has begun.
2. Complete (one transaction): the row is locked again, the log position
   read (the window's end), the facts gathered, the figures computed and
   every event appended in one batch, and the row marked CLOSED.
A worker killed anywhere in 2 leaves nothing but the CLOSING mark, and the
next request (whose lock then succeeds) completes the close. A killed worker
can never pay twice: the row lock, the CLOSED status and the PeriodClosed
event's unique idempotency key each stand in the way.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from django.db import DatabaseError, transaction
from django.utils import timezone

from ledger import business_time
from ledger.actors import Actor, database_user, four_eyes_problem, RECONCILER
from ledger.hooks import reached
from ledger.services import append_batch
from remittance.domain.trust_calendar import Period, payment_date, record_date
from remittance.domain.close_events import CloseContext, close_appends
from remittance.domain.close_figures import close_figures
from remittance.errors import CloseInProgress, CloseNotApproved, CloseRefused, PeriodAlreadyClosed
from remittance.selectors.period_facts import carried_into, coupon_text, loan_facts, log_head, pool_original_cents, window_for
from remittance.models import PeriodResult, PeriodStatus, TrustPeriod
from remittance.selectors.month_end_schedule import month_end_day as schedule_day
from trusts.models import SecurityClass, Trust
from trusts.selectors import holders_of_record_by_class

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CloseOutcome:
    trust_code: str
    period: str
    result: PeriodResult


def first_period(trust: Trust) -> Period:
    """The trust's first collection period: the month before its first payment date."""
    return Period.containing(trust.first_payment_date).previous()


def period_close(*, trust_code: str, period: str | Period, as_of: date | None = None,
                 acting_user: Actor, approved_by=None) -> CloseOutcome:
    """Close one trust's period now; see the module docstring for the exactly-once rules.

    Four eyes: acting_user is either the system (a `ledger.actors.SystemActor`: the schedule,
    the reconciler, the demo, the operator's command) or the person who asked for the close,
    and then approved_by is the second staff member, holding the approval permission, who let
    it run. Anything else (a person alone, nobody at all) is refused with CloseNotApproved
    before anything is written. The period's row keeps the requester; the events are recorded
    by the approver when there is one, and PeriodClosed names both (the system: neither).
    as_of, the day taken as today for "has the period ended", may not be after today.
    """
    _require_four_eyes(trust_code, period, acting_user, approved_by)
    trust = _trust(trust_code)
    period = period if isinstance(period, Period) else _parse(period)
    close_request_check(trust, period, _as_of(trust, period, as_of))
    _start(trust, period, database_user(acting_user))
    reached("close:started")
    try:
        return _complete(trust, period, _Signatories(requested_by=database_user(acting_user),
                                                     approved_by=database_user(approved_by), acting=acting_user))
    except (PeriodAlreadyClosed, CloseInProgress):
        raise
    except Exception as error:
        _record_failure(trust, period, error)
        raise


def _require_four_eyes(trust_code, period, acting_user: Actor, approved_by) -> None:
    problem = four_eyes_problem(act=f"the close of {trust_code} {period}", acting=acting_user,
                                approved_by=approved_by)
    if problem:
        raise CloseNotApproved(problem)


def _as_of(trust: Trust, period: Period, as_of: date | None) -> date:
    # A day after today would let a period that has not ended close early.
    if as_of is None:
        return business_time.today()
    try:
        return business_time.require_not_future("as_of", as_of)
    except business_time.BusinessDateError as error:
        raise CloseRefused(f"{trust.code} {period}: {error}") from None


def _trust(code: str) -> Trust:
    try:
        return Trust.objects.get(code=code)
    except Trust.DoesNotExist:
        raise CloseRefused(f"no trust {code!r}") from None


def _parse(text: str) -> Period:
    try:
        return Period.parse(text)
    except ValueError as error:
        raise CloseRefused(str(error)) from None


def close_request_check(trust: Trust, period: Period, today: date) -> None:
    """Refuse at once a close that cannot run today: not yet ended, before the first period, or out of order.

    A period already closed is refused later, under the period's lock; callers that want to
    answer that before enqueueing (the API) check PeriodResult themselves.
    """
    first = first_period(trust)
    if period < first:
        raise CloseRefused(f"{trust.code} has no period {period}: its first collection period is {first}")
    if period.last_day >= today:
        raise CloseRefused(f"{trust.code} {period} cannot close before it ends on {period.last_day.isoformat()}")
    if period != first and not PeriodResult.objects.filter(trust=trust, period=str(period.previous())).exists():
        raise CloseRefused(f"{trust.code} {period} cannot close before {period.previous()} is closed")


def _start(trust: Trust, period: Period, acting_user) -> None:
    with transaction.atomic():
        row = _locked_row(trust, period)
        row.status = PeriodStatus.CLOSING
        row.attempts += 1
        row.closing_started_at = timezone.now()
        row.requested_by = acting_user if getattr(acting_user, "pk", None) else None
        row.last_error = ""
        row.save(update_fields=["status", "attempts", "closing_started_at", "requested_by", "last_error"])


def _locked_row(trust: Trust, period: Period) -> TrustPeriod:
    """The period's row, locked for this transaction; refuses if closed or locked by another."""
    TrustPeriod.objects.get_or_create(
        trust=trust, period=str(period),
        defaults={"record_date": record_date(period),
                  "payment_date": payment_date(period, payment_day=trust.payment_day)},
    )
    try:
        row = TrustPeriod.objects.select_for_update(nowait=True).get(trust=trust, period=str(period))
    except DatabaseError:
        raise CloseInProgress(trust.code, str(period)) from None
    if row.status == PeriodStatus.CLOSED:
        raise PeriodAlreadyClosed(trust.code, str(period))
    return row


@dataclass(frozen=True, slots=True)
class _Signatories:
    """Who asked for a close and who approved it (either may be None: a scheduled close has neither)."""

    requested_by: object = None
    approved_by: object = None
    acting: Actor | None = None  # who carries the close out: the requester, or the system by name

    @property
    def recorder(self) -> Actor:
        """Who the close's events are recorded by: the approver's act made it happen; else the system acting."""
        return self.approved_by or self.requested_by or self.acting

    @staticmethod
    def _name(user) -> str | None:
        return user.get_username() if getattr(user, "pk", None) else None

    def names(self) -> dict[str, str | None]:
        return {"requested_by": self._name(self.requested_by), "approved_by": self._name(self.approved_by)}


def _complete(trust: Trust, period: Period, signatories: _Signatories) -> CloseOutcome:
    with transaction.atomic():
        row = _locked_row(trust, period)
        through = log_head()
        window = window_for(trust, period, through)
        scheduled = trust.remittance_type == Trust.RemittanceType.SCHEDULED_SCHEDULED
        classes = list(SecurityClass.objects.filter(trust=trust))
        figures = close_figures(
            loans=loan_facts(trust, period, window, scheduled=scheduled), carried=carried_into(trust, period),
            issuer_spread_rate=trust.issuer_spread_rate, scheduled=scheduled,
            original_faces={c.name: c.original_face_cents for c in classes},
            holders=holders_of_record_by_class(classes=classes, record_date=row.record_date),
        )
        context = CloseContext(
            trust_code=trust.code, period=str(period), record_date=row.record_date, payment_date=row.payment_date,
            through_position=through, previous_through=window.previous_through,
            original_faces={c.name: c.original_face_cents for c in classes},
            coupons={c.name: coupon_text(c.coupon) for c in classes}, pool_original_cents=pool_original_cents(trust),
            **signatories.names(),
        )
        append_batch(appends=close_appends(context, figures), acting_user=signatories.recorder)
        reached("close:appended")  # tests kill the worker here: everything appended, nothing committed
        row.status, row.through_position, row.closed_at = PeriodStatus.CLOSED, through, timezone.now()
        row.save(update_fields=["status", "through_position", "closed_at"])
        return CloseOutcome(trust.code, str(period), PeriodResult.objects.get(trust=trust, period=str(period)))


def _record_failure(trust: Trust, period: Period, error: Exception) -> None:
    # The close left nothing; the period is open again, with the reason for the staff to read.
    with transaction.atomic():
        TrustPeriod.objects.filter(trust=trust, period=str(period)).exclude(status=PeriodStatus.CLOSED).update(
            status=PeriodStatus.OPEN, last_error=f"{type(error).__name__}: {error}"[:2000])


def month_end_prepare() -> None:
    """Before the closes fan out: fresh planner statistics for every table a close reads by range."""
    from ledger.bulk import analyze
    from ledger.models import Event, Posting
    from servicing.models import CollectionLine
    from trusts.models import HoldingMovement, PoolLoan

    analyze(Event, Posting, CollectionLine, PoolLoan, HoldingMovement)


def periods_due(*, period: Period) -> list[str]:
    """Codes of the trusts whose `period` is due and not yet closed (for the month-end fan-out)."""
    closed = set(PeriodResult.objects.filter(period=str(period)).values_list("trust__code", flat=True))
    return [t.code for t in Trust.objects.order_by("code") if first_period(t) <= period and t.code not in closed]


# --- The reconciler: closes that fell due and did not happen ---------------------------------------

def close_due_on(period: Period, month_end_day: int | None = None) -> date:
    """The day a period's close falls due: the month-end schedule's day in the month after it.

    The day is the schedule's (remittance.selectors.month_end_schedule, the only source of it); a caller
    asking for many periods reads it once and passes it. A day the month lacks (the 30th in
    February) falls on the month's last day.
    """
    day = month_end_day if month_end_day is not None else schedule_day()
    following = period.next()
    return following.first_day.replace(day=min(day, following.last_day.day))


def periods_overdue(today: date) -> list[tuple[str, Period]]:
    """(trust code, period) of every close due by `today` and not done, oldest first within each trust.

    A period is done when it has its PeriodResult; a close stuck in CLOSING (its worker killed)
    is not done and is listed, since closing it again completes it. A trust that has wound
    down (its last close left no pool balance and no cash retained) has no more closes due.
    """
    closed: dict[int, set[str]] = {}
    left_after_last_close: dict[int, int] = {}
    for trust_id, period, pool_end, retained in PeriodResult.objects.order_by("trust_id", "period").values_list(
            "trust_id", "period", "pool_balance_end_cents", "retained_cents"):
        closed.setdefault(trust_id, set()).add(period)
        left_after_last_close[trust_id] = pool_end + retained  # ordered by period: the last one stays
    wound_down = {trust_id for trust_id, left in left_after_last_close.items() if left == 0}
    day = schedule_day()
    overdue = []
    for trust in Trust.objects.order_by("code"):
        if trust.pk in wound_down:
            continue
        period = first_period(trust)
        while close_due_on(period, day) <= today:
            if str(period) not in closed.get(trust.pk, ()):
                overdue.append((trust.code, period))
            period = period.next()
    return overdue


@dataclass
class ReconcilerReport:
    """What one run of the reconciler did: each entry is "TRUST PERIOD", held ones with the reason."""

    today: date
    closed: list[str]
    resumed: list[str]  # closes found stuck in CLOSING and completed
    held: list[str]  # refused or being closed elsewhere: that trust's later periods wait for it

    def as_dict(self) -> dict:
        return {"today": self.today.isoformat(), "closed": self.closed, "resumed": self.resumed, "held": self.held}


def overdue_periods_close(*, today: date) -> ReconcilerReport:
    """Close every overdue period (periods_overdue), each trust's in order, as of `today`.

    A trust whose close is refused, or is being closed by another worker, is reported and
    its later periods left for the next run (they cannot close before it); the other trusts
    still close. Each close is period_close itself, so a run repeated, redelivered or racing
    the month-end pays nothing twice.
    """
    try:
        today = business_time.require_not_future("the reconciler's as-of date", today)
    except business_time.BusinessDateError as error:
        raise CloseRefused(str(error)) from None
    report = ReconcilerReport(today=today, closed=[], resumed=[], held=[])
    overdue = periods_overdue(today)
    if overdue:
        month_end_prepare()
    held: set[str] = set()
    for code, period in overdue:
        if code not in held and not _reconciled(code, period, today, report):
            held.add(code)
    return report


def _reconciled(code: str, period: Period, today: date, report: ReconcilerReport) -> bool:
    """Close one overdue period for the reconciler; False when it is held (and reported)."""
    name = f"{code} {period}"
    stuck = TrustPeriod.objects.filter(trust__code=code, period=str(period), status=PeriodStatus.CLOSING).exists()
    try:
        period_close(trust_code=code, period=period, as_of=today, acting_user=RECONCILER)
    except PeriodAlreadyClosed:
        return True  # closed by the month-end or a person since the list was made
    except CloseRefused as refused:  # CloseInProgress too: another worker has it
        report.held.append(f"{name}: {refused}")
        return False
    except Exception as error:  # one trust's failure must not stop the others; period_close recorded it
        log.exception("the reconciler's close of %s failed", name)
        report.held.append(f"{name}: {type(error).__name__}: {error}")
        return False
    (report.resumed if stuck else report.closed).append(name)
    reached("reconciler:closed")  # tests kill the worker here: one close committed, the run unfinished
    return True
