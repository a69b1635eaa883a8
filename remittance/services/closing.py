"""The month-end close of trusts for one period: exactly once, each trust's all or nothing.

A close runs for one trust (`period_close`) or for a group of trusts at once
(`trusts_close`, the month-end's fan-out): the same two steps, a group's
statements and appends shared by its trusts.
1. Start (its own short transaction, committed): each period's row is created
   if missing and locked without waiting; a closed period is answered
   PeriodAlreadyClosed, a row locked by another worker CloseInProgress (in a
   group: listed as such, the other trusts go on); the others are marked
   CLOSING, so everyone can see a close has begun.
2. Complete (one transaction): the rows are locked again, the log position
   read (the windows' end), every trust's facts gathered in a few set-based
   statements (remittance.selectors.group_facts), each trust's figures
   computed by the one pure close (remittance.domain.close_figures), every
   event of every trust appended in one batch, and the rows marked CLOSED.
A worker killed anywhere in 2 leaves nothing but the CLOSING marks, and the
next request (whose lock then succeeds) completes the closes. A killed worker
can never pay twice: the row lock, the CLOSED status and each PeriodClosed
event's unique idempotency key stand in the way. A trust whose figures cannot
be computed is left out of its group's batch (its row opened again with the
reason); a batch that fails as a whole is closed again one trust at a time,
so one trust's fault never holds the others.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from django.db import DatabaseError, InterfaceError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone

from ledger import business_time
from ledger.actors import Actor, database_user, four_eyes_problem, RECONCILER
from ledger.domain.records import StreamAppend
from ledger.hooks import reached
from ledger.services import append_batch
from remittance.close_announcements import closes_recorded
from remittance.domain.trust_calendar import Period, first_collection_period, payment_date, record_date
from remittance.domain.close_events import CloseContext, close_appends
from remittance.domain.close_figures import close_figures
from remittance.errors import CloseInProgress, CloseNotApproved, CloseRefused, PeriodAlreadyClosed
from remittance.selectors.group_facts import TrustFacts, group_facts, holders_of_record_by_trust
from remittance.selectors.period_facts import coupon_text, log_head
from remittance.models import PeriodResult, PeriodStatus, TrustPeriod
from remittance.selectors.month_end_schedule import month_end_day as schedule_day
from trusts.models import Trust

log = logging.getLogger(__name__)

# How many trusts the month-end closes in one group: their reads and appends shared, each group one task.
CLOSE_GROUP_TRUSTS = 8


@dataclass(frozen=True, slots=True)
class CloseOutcome:
    trust_code: str
    period: str
    result: PeriodResult


@dataclass
class GroupOutcome:
    """What a group close did for each trust asked for: closed, already closed, busy, refused or failed."""

    period: str
    closed: list[CloseOutcome] = field(default_factory=list)
    already_closed: list[str] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)  # being closed by another worker right now
    refused: dict[str, str] = field(default_factory=dict)  # trust code -> why (nothing written)
    failed: dict[str, Exception] = field(default_factory=dict)  # trust code -> the error (its row opened again)

    def as_dict(self) -> dict:
        return {"period": self.period, "closed": [o.trust_code for o in self.closed],
                "already_closed": self.already_closed, "busy": self.busy, "refused": self.refused,
                "failed": {code: f"{type(e).__name__}: {e}" for code, e in self.failed.items()}}


def first_period(trust: Trust) -> Period:
    """The trust's first collection period: the month before its first payment date."""
    return first_collection_period(trust.first_payment_date)


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
    close_request_check(trust, period, _as_of(trust.code, period, as_of))
    outcome = GroupOutcome(period=str(period))
    signatories = _Signatories(requested_by=database_user(acting_user), approved_by=database_user(approved_by),
                               acting=acting_user)
    _close([trust], period, signatories, outcome)
    if outcome.already_closed:
        raise PeriodAlreadyClosed(trust.code, str(period))
    if outcome.busy:
        raise CloseInProgress(trust.code, str(period))
    if outcome.failed:
        raise outcome.failed[trust.code]
    return outcome.closed[0]


def trusts_close(*, trust_codes: Sequence[str], period: str | Period, as_of: date | None = None,
                 acting_user: Actor, approved_by=None) -> GroupOutcome:
    """Close a group of trusts' period at once: each trust exactly as `period_close` would, in shared statements.

    The same four eyes as period_close, for the group as a whole (the system by name, or a
    requester with another staff member's approval). A trust that cannot close is answered in
    the outcome and the others close: one unknown, not due or out of order (refused, nothing
    written), already closed, being closed by another worker (busy: ask again), or whose close
    failed (its row opened again with the reason). A date after today, an unreadable period or a
    missing approval refuses the whole call (CloseRefused, CloseNotApproved).
    """
    codes = list(dict.fromkeys(trust_codes))
    _require_four_eyes(", ".join(codes), period, acting_user, approved_by)
    period = period if isinstance(period, Period) else _parse(period)
    today = _as_of(", ".join(codes), period, as_of)
    outcome = GroupOutcome(period=str(period))
    found = {t.code: t for t in Trust.objects.filter(code__in=codes)}
    previous_closed = set(PeriodResult.objects.filter(trust__code__in=codes, period=str(period.previous()))
                          .values_list("trust__code", flat=True))
    due = []
    for code in codes:
        trust = found.get(code)
        problem = (f"no trust {code!r}" if trust is None
                   else _request_problem(trust, period, today, previous_closed=code in previous_closed))
        if problem:
            outcome.refused[code] = problem
        else:
            due.append(trust)
    if due:
        signatories = _Signatories(requested_by=database_user(acting_user), approved_by=database_user(approved_by),
                                   acting=acting_user)
        _close(due, period, signatories, outcome)
    return outcome


def close_groups(codes: Sequence[str], *, at_least: int = 1, size: int = CLOSE_GROUP_TRUSTS) -> list[list[str]]:
    """The trusts split into groups of at most `size` (and into at least `at_least`, so as many workers share
    them), as even as they divide, in the order given."""
    codes = list(codes)
    if not codes:
        return []
    count = min(len(codes), max(at_least, -(-len(codes) // size)))
    each, extra = divmod(len(codes), count)
    groups, start = [], 0
    for number in range(count):
        end = start + each + (1 if number < extra else 0)
        groups.append(codes[start:end])
        start = end
    return groups


def _require_four_eyes(trust_code, period, acting_user: Actor, approved_by) -> None:
    problem = four_eyes_problem(act=f"the close of {trust_code} {period}", acting=acting_user,
                                approved_by=approved_by)
    if problem:
        raise CloseNotApproved(problem)


def _as_of(what: str, period: Period, as_of: date | None) -> date:
    # A day after today would let a period that has not ended close early.
    if as_of is None:
        return business_time.today()
    try:
        return business_time.require_not_future("as_of", as_of)
    except business_time.BusinessDateError as error:
        raise CloseRefused(f"{what} {period}: {error}") from None


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
    previous_closed = PeriodResult.objects.filter(trust=trust, period=str(period.previous())).exists()
    problem = _request_problem(trust, period, today, previous_closed=previous_closed)
    if problem:
        raise CloseRefused(problem)


def _request_problem(trust: Trust, period: Period, today: date, *, previous_closed: bool) -> str | None:
    """close_request_check's rules, told whether the period before is closed: why not, or None."""
    first = first_period(trust)
    if period < first:
        return f"{trust.code} has no period {period}: its first collection period is {first}"
    if period.last_day >= today:
        return f"{trust.code} {period} cannot close before it ends on {period.last_day.isoformat()}"
    if period != first and not previous_closed:
        return f"{trust.code} {period} cannot close before {period.previous()} is closed"
    return None


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


def _close(trusts: list[Trust], period: Period, signatories: _Signatories, outcome: GroupOutcome) -> None:
    """Start and complete the closes of these trusts (each due and in order), recording each answer in `outcome`."""
    started = _start(trusts, period, signatories.requested_by, outcome)
    if not started:
        return
    reached("close:started")  # tests kill the worker here: the closes marked CLOSING, nothing else done
    _complete_or_one_by_one(started, period, signatories, outcome)


def _complete_or_one_by_one(trusts: list[Trust], period: Period, signatories: _Signatories,
                            outcome: GroupOutcome) -> None:
    try:
        _complete(trusts, period, signatories, outcome)
    except (OperationalError, InterfaceError):
        raise  # the database went away: nothing was kept, the task's retry closes the group again
    except Exception as error:
        if len(trusts) > 1:
            # The group's batch failed as a whole (rolled back): one trust at a time, so one trust's fault
            # stays its own.
            log.warning("the group close of %s %s failed (%s); closing its trusts one at a time",
                        ", ".join(t.code for t in trusts), period, error)
            for trust in trusts:
                _complete_or_one_by_one([trust], period, signatories, outcome)
            return
        _record_failure(trusts[0], period, error)
        outcome.failed[trusts[0].code] = error
        log.error("the close of %s %s failed: %s", trusts[0].code, period, error, exc_info=error)


def _start(trusts: list[Trust], period: Period, requester, outcome: GroupOutcome) -> list[Trust]:
    """Mark CLOSING the rows this worker could lock and that are not closed; the others go to `outcome`."""
    with transaction.atomic():
        rows = _locked_rows(trusts, period, outcome)
        if rows:
            TrustPeriod.objects.filter(pk__in=[row.pk for row in rows.values()]).update(
                status=PeriodStatus.CLOSING, attempts=F("attempts") + 1, closing_started_at=timezone.now(),
                requested_by=requester if getattr(requester, "pk", None) else None, last_error="")
    return [t for t in trusts if t.pk in rows]


def _locked_rows(trusts: list[Trust], period: Period, outcome: GroupOutcome) -> dict[int, TrustPeriod]:
    """The periods' rows (created if missing), locked for this transaction, by trust id.

    A row locked by another worker is left out and its trust listed busy; a closed one listed already closed.
    """
    missing = {t.pk for t in trusts} - set(TrustPeriod.objects.filter(
        trust_id__in=[t.pk for t in trusts], period=str(period)).values_list("trust_id", flat=True))
    if missing:
        TrustPeriod.objects.bulk_create([
            TrustPeriod(trust=t, period=str(period), record_date=record_date(period),
                        payment_date=payment_date(period, payment_day=t.payment_day))
            for t in trusts if t.pk in missing], ignore_conflicts=True)
    try:
        locked = {row.trust_id: row for row in TrustPeriod.objects.select_for_update(skip_locked=True).filter(
            trust_id__in=[t.pk for t in trusts], period=str(period))}
    except DatabaseError:  # pragma: no cover - skip_locked never waits; kept for a backend that refuses it
        locked = {}
    rows = {}
    for trust in trusts:
        row = locked.get(trust.pk)
        if row is None:
            outcome.busy.append(trust.code)
        elif row.status == PeriodStatus.CLOSED:
            outcome.already_closed.append(trust.code)
        else:
            rows[trust.pk] = row
    return rows


def _complete(trusts: list[Trust], period: Period, signatories: _Signatories, outcome: GroupOutcome) -> None:
    with transaction.atomic():
        answered = GroupOutcome(period=str(period))  # kept only if this transaction commits
        rows = _locked_rows(trusts, period, answered)
        if not rows:
            _merge(outcome, answered)
            return
        through = log_head()
        facts = group_facts([t for t in trusts if t.pk in rows], period, through)
        holders = holders_of_record_by_trust(facts, {pk: row.record_date for pk, row in rows.items()})
        appends: list[StreamAppend] = []
        closing: list[int] = []
        for pk, trust_facts in facts.items():
            try:
                appends.extend(_appends(trust_facts, rows[pk], holders[pk], through, signatories))
            except Exception as error:  # this trust's facts cannot close; the group's others still do
                answered.failed[trust_facts.trust.code] = error
                continue
            closing.append(pk)
        if appends:
            recorded = append_batch(appends=_one_append_per_stream(appends), acting_user=signatories.recorder)
            reached("close:appended")  # tests kill the worker here: everything appended, nothing committed
            TrustPeriod.objects.filter(pk__in=[rows[pk].pk for pk in closing]).update(
                status=PeriodStatus.CLOSED, through_position=through, closed_at=timezone.now())
            codes = {pk: rows[pk].trust.code for pk in closing}
            results = {r.trust_id: r for r in PeriodResult.objects.filter(trust_id__in=closing, period=str(period))}
            answered.closed.extend(CloseOutcome(codes[pk], str(period), results[pk]) for pk in closing)
            closes_recorded(recorded)  # the listeners (webhooks) are told once this commits, never before
    for code, error in answered.failed.items():
        _record_failure(next(t for t in trusts if t.code == code), period, error)
        log.error("the close of %s %s failed: %s", code, period, error, exc_info=error)
    _merge(outcome, answered)


def _appends(facts: TrustFacts, row: TrustPeriod, holders: dict[str, dict[str, int]], through: int,
             signatories: _Signatories) -> list[StreamAppend]:
    """One trust's close as appends: its figures by the pure close, its events by the pure event builder."""
    trust, classes = facts.trust, facts.classes
    original_faces = {c.name: c.original_face_cents for c in classes}
    figures = close_figures(
        loans=facts.loans, carried=facts.carried, issuer_spread_rate=trust.issuer_spread_rate,
        scheduled=facts.scheduled, original_faces=original_faces, holders=holders,
        structure=facts.structure, standing=facts.standing,
    )
    context = CloseContext(
        trust_code=trust.code, period=row.period, record_date=row.record_date, payment_date=row.payment_date,
        through_position=through, previous_through=facts.window.previous_through, original_faces=original_faces,
        coupons={c.name: coupon_text(c.coupon) for c in classes}, pool_original_cents=facts.pool_original_cents,
        **signatories.names(),
    )
    return close_appends(context, figures)


def _one_append_per_stream(appends: list[StreamAppend]) -> list[StreamAppend]:
    """The group's appends with each stream once (a holder of several trusts' bonds): its events in trust order."""
    merged: dict[str, list] = {}
    for a in appends:
        merged.setdefault(a.stream, []).extend(a.events)
    return [StreamAppend(stream, None, tuple(events)) for stream, events in merged.items()]


def _merge(outcome: GroupOutcome, answered: GroupOutcome) -> None:
    outcome.closed.extend(answered.closed)
    outcome.already_closed.extend(answered.already_closed)
    outcome.busy.extend(answered.busy)
    outcome.failed.update(answered.failed)


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
