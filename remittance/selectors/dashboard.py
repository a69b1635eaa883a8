"""The operations dashboard's figures. Selectors only: read queries, aggregated in the database.

Every figure is one or two queries whatever the number of loans (grouped
sums and counts, never a Python loop over loans); the loops below run over
delinquency buckets and trusts, which are few.

- `delinquency_buckets`: open loans (not paid off, liquidated or charged
  off) by MBA bucket as the last aging run left it, with their count and
  unpaid principal.
- `default_servicing_states`: open loans in each default-servicing state
  (servicing.domain.default_states; a loan may be in several), with their
  count, unpaid principal (deferred principal included) and the MBA buckets
  beside, in one grouped query.
- `collections_against_scheduled`: for a calendar month, the principal and
  interest scheduled (one level P&I installment of every open loan whose
  first payment is due by the month's end) against the interest and
  scheduled principal collected on loan events dated in the month (net of
  returned payments); prepayments (curtailments, payoffs, liquidations) are
  reported beside it, not counted as meeting the schedule.
- `trust_periods`: per trust, how many periods are open, closing and
  closed, the latest few, and the next period to close.
- `exceptions`: borrowers' money in suspense, and escrow shortages (escrow
  the servicer advanced and has not recovered yet);
- `servicer_advances`: the servicer's P&I advances outstanding per trust
  (its `servicer:advances:CODE` ledger accounts).
- `monthly_trends`: the twelve months up to the dashboard's month, collections
  by kind per month and unpaid principal by delinquency bucket at each month's
  end (from the loans' agings as of that day, so a month is never restated by
  what happened after it), drawn as charts.

The month-end schedule the dashboard links to is read by remittance.selectors.month_end_schedule.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, F, Max, Q, Sum, Window
from django.db.models.functions import RowNumber, TruncMonth

from ledger.models import Event
from ledger.selectors import account_balances, balances_under
from remittance.domain.trust_calendar import Period
from remittance.models import PeriodStatus, TrustPeriod
from remittance.services.closing import first_period
from servicing.domain import accounts
from servicing.domain.default_states import DEFAULT_STATES, DefaultState
from servicing.domain.delinquency_status import MBA_BUCKETS
from servicing.events import DelinquencyChanged
from servicing.models import CLOSED_STATUSES, CollectionLine, LoanPosition
from servicing.selectors import default_state_filter
from trusts.models import Trust

SERVICER_ADVANCES = "servicer:advances:"
LATEST_PERIODS = 3
TOP_LOANS = 10


def open_loans():
    """Positions of the loans still being serviced (foreclosure and REO included)."""
    return LoanPosition.objects.exclude(status__in=CLOSED_STATUSES)


# ------------------------------------------------------------------ delinquency


@dataclass(frozen=True, slots=True)
class Bucket:
    bucket: str
    loans: int
    unpaid_cents: int


def delinquency_buckets() -> list[Bucket]:
    """Open loans per MBA bucket (every bucket listed, empty ones as zero), in the MBA order."""
    rows = {r["delinquency_bucket"]: r for r in open_loans().values("delinquency_bucket").order_by()
            .annotate(loans=Count("pk"), unpaid=Sum("principal_balance_cents"))}
    empty = {"loans": 0, "unpaid": 0}
    return [Bucket(name, rows.get(name, empty)["loans"], rows.get(name, empty)["unpaid"] or 0)
            for name in [*MBA_BUCKETS, *sorted(set(rows) - set(MBA_BUCKETS))]]


@dataclass(frozen=True, slots=True)
class StateRow:
    state: DefaultState
    loans: int
    unpaid_cents: int  # interest-bearing and deferred principal
    by_bucket: dict[str, int]  # MBA bucket -> loans in this state, every bucket listed


def default_servicing_states() -> list[StateRow]:
    """Open loans per default-servicing state (every state listed, empty ones as zero), by MBA bucket."""
    figures = {}
    for state in DEFAULT_STATES:
        condition = default_state_filter(state)
        figures[f"{state.name}_loans"] = Count("pk", filter=condition)
        figures[f"{state.name}_unpaid"] = Sum(F("principal_balance_cents") + F("deferred_principal_cents"),
                                              filter=condition)
    rows = list(open_loans().values("delinquency_bucket").order_by().annotate(**figures))
    buckets = [*MBA_BUCKETS, *sorted({r["delinquency_bucket"] for r in rows} - set(MBA_BUCKETS))]
    out = []
    for state in DEFAULT_STATES:
        by_bucket = dict.fromkeys(buckets, 0)
        for row in rows:
            by_bucket[row["delinquency_bucket"]] += row[f"{state.name}_loans"]
        out.append(StateRow(state, sum(by_bucket.values()),
                            sum(r[f"{state.name}_unpaid"] or 0 for r in rows), by_bucket))
    return out


# ------------------------------------------------------------------ collections


@dataclass(frozen=True, slots=True)
class MonthCollections:
    period: Period
    loans_scheduled: int
    scheduled_pi_cents: int
    loans_paid: int
    interest_cents: int
    scheduled_principal_cents: int
    prepaid_cents: int  # curtailments, payoffs and liquidation principal

    @property
    def collected_pi_cents(self) -> int:
        return self.interest_cents + self.scheduled_principal_cents

    @property
    def shortfall_cents(self) -> int:
        return max(self.scheduled_pi_cents - self.collected_pi_cents, 0)

    @property
    def percent(self) -> int | None:
        """Collected as a whole percent of scheduled (None when nothing is scheduled)."""
        if not self.scheduled_pi_cents:
            return None
        return self.collected_pi_cents * 100 // self.scheduled_pi_cents


def collections_against_scheduled(period: Period) -> MonthCollections:
    """The month's scheduled P&I against the P&I collected so far (see the module docstring)."""
    scheduled = open_loans().filter(loan__first_payment_date__lte=period.last_day,
                                    loan__boarded_on__lte=period.last_day).aggregate(
        loans=Count("pk"), pi=Sum("payment_pi_cents"))
    lines = CollectionLine.objects.filter(effective_date__gte=period.first_day, effective_date__lte=period.last_day)
    collected = lines.aggregate(
        interest=Sum("interest_cents"), principal=Sum("scheduled_principal_cents"),
        prepaid=Sum(F("curtailment_cents") + F("payoff_principal_cents") + F("liquidation_principal_cents")),
        loans=Count("loan", distinct=True, filter=Q(interest_cents__gt=0) | Q(scheduled_principal_cents__gt=0)))
    return MonthCollections(
        period=period, loans_scheduled=scheduled["loans"], scheduled_pi_cents=scheduled["pi"] or 0,
        loans_paid=collected["loans"], interest_cents=collected["interest"] or 0,
        scheduled_principal_cents=collected["principal"] or 0, prepaid_cents=collected["prepaid"] or 0)


# ------------------------------------------------------------------ periods


@dataclass(frozen=True, slots=True)
class TrustPeriods:
    trust_id: int
    trust: str
    counts: dict[str, int]  # status -> periods
    latest: list[TrustPeriod]  # newest first
    next_period: Period  # the period after the latest closed one (the first, before any close)
    next_ended: bool  # its last day has passed, so it can be closed

    @property
    def next_status(self) -> str:
        """The next period's status: 'open' (or 'closing') if a close was started, else 'not started'."""
        row = next((p for p in self.latest if p.period == str(self.next_period)), None)
        return row.status if row else "not started"


def trust_periods(today: date, latest: int = LATEST_PERIODS) -> list[TrustPeriods]:
    """Every trust's periods: counts by status, the latest few rows, and the next period to close."""
    trusts = list(Trust.objects.order_by("code").annotate(last_closed=Max("period_results__period")))
    counts: dict[int, dict[str, int]] = {}
    for row in TrustPeriod.objects.values("trust_id", "status").order_by().annotate(n=Count("pk")):
        counts.setdefault(row["trust_id"], {})[row["status"]] = row["n"]
    recent: dict[int, list[TrustPeriod]] = {}
    ranked = TrustPeriod.objects.annotate(
        rank=Window(RowNumber(), partition_by=[F("trust_id")], order_by=F("period").desc())
    ).filter(rank__lte=latest).order_by("trust_id", "-period")
    for row in ranked:
        recent.setdefault(row.trust_id, []).append(row)
    out = []
    for trust in trusts:
        following = Period.parse(trust.last_closed).next() if trust.last_closed else first_period(trust)
        out.append(TrustPeriods(
            trust_id=trust.pk, trust=trust.code,
            counts={status: counts.get(trust.pk, {}).get(status, 0) for status in PeriodStatus.values},
            latest=recent.get(trust.pk, []), next_period=following, next_ended=following.last_day < today))
    return out


# ------------------------------------------------------------------ exceptions


@dataclass(frozen=True, slots=True)
class Exceptions:
    suspense_loans: int
    suspense_cents: int
    suspense_top: list[tuple[str, int]]  # (loan number, cents), largest first
    escrow_loans: int
    escrow_advance_cents: int
    escrow_top: list[tuple[str, int]]


ESCROW_SHORT = Q(escrow_advance_cents__gt=0) | Q(escrow_balance_cents__lt=0)


def exceptions(top: int = TOP_LOANS) -> Exceptions:
    """Loans with money in suspense and loans short of escrow: counts, totals and the largest few."""
    totals = LoanPosition.objects.aggregate(
        suspense_loans=Count("pk", filter=Q(suspense_cents__gt=0)),
        suspense=Sum("suspense_cents", filter=Q(suspense_cents__gt=0)),
        escrow_loans=Count("pk", filter=ESCROW_SHORT),
        escrow=Sum("escrow_advance_cents", filter=ESCROW_SHORT))
    return Exceptions(
        suspense_loans=totals["suspense_loans"], suspense_cents=totals["suspense"] or 0,
        suspense_top=_largest("suspense_cents", Q(suspense_cents__gt=0), top),
        escrow_loans=totals["escrow_loans"], escrow_advance_cents=totals["escrow"] or 0,
        escrow_top=_largest("escrow_advance_cents", ESCROW_SHORT, top),
    )


def _largest(field: str, condition: Q, top: int) -> list[tuple[str, int]]:
    """The `top` loans meeting `condition` with the largest `field`, as (loan number, cents)."""
    rows = LoanPosition.objects.filter(condition).order_by(f"-{field}", "loan_id").values_list("loan_id", field)
    return list(rows[:top])


def servicer_advances() -> list[tuple[str, int]]:
    """(trust code, cents) the servicer has advanced to each trust and not recovered, from the ledger."""
    return [(account.removeprefix(SERVICER_ADVANCES), cents)
            for account, cents in balances_under(SERVICER_ADVANCES).items()]


# ------------------------------------------------------------------ trends by month

TREND_MONTHS = 12
FIRST_TREND_PERIOD = Period(1, 1)
DELINQUENT_BUCKETS = MBA_BUCKETS[1:]


@dataclass(frozen=True, slots=True)
class Trends:
    """The last months up to the dashboard's month: collections by kind, and unpaid principal by delinquency.

    `collected`: kind -> cents collected on loan events dated in each month (net of returns).
    `delinquent`: MBA bucket (30, 60, 90+) -> unpaid principal of the loans in it at each month's end, by the
    bucket their last aging on or before that day gave them (loans with nothing left owed drop out).
    """

    periods: tuple[Period, ...]
    collected: dict[str, tuple[int, ...]]
    delinquent: dict[str, tuple[int, ...]]


COLLECTED_KINDS = {
    "interest": F("interest_cents"), "scheduled principal": F("scheduled_principal_cents"),
    "curtailments and payoffs": F("curtailment_cents") + F("payoff_principal_cents"),
    "liquidations": F("liquidation_principal_cents"),
}


def monthly_trends(through: Period, months: int = TREND_MONTHS) -> Trends:
    """`months` months ending with `through`: one grouped query for collections, two queries a month for
    delinquency (the latest aging of each loan aged by then, and those loans' principal on that day)."""
    periods = [through]
    while len(periods) < months and periods[0] > FIRST_TREND_PERIOD:  # the calendar starts in year 1
        periods.insert(0, periods[0].previous())
    return Trends(periods=tuple(periods), collected=_collected_by_month(periods),
                  delinquent=_delinquent_by_month(periods))


def _collected_by_month(periods: list[Period]) -> dict[str, tuple[int, ...]]:
    rows = (CollectionLine.objects
            .filter(effective_date__gte=periods[0].first_day, effective_date__lte=periods[-1].last_day)
            .annotate(month=TruncMonth("effective_date")).values("month").order_by("month")
            .annotate(**{f"k{i}": Sum(expression) for i, expression in enumerate(COLLECTED_KINDS.values())}))
    by_month = {Period.containing(row["month"]): row for row in rows}
    return {kind: tuple(by_month[p][f"k{i}"] or 0 if p in by_month else 0 for p in periods)
            for i, kind in enumerate(COLLECTED_KINDS)}


def _delinquent_by_month(periods: list[Period]) -> dict[str, tuple[int, ...]]:
    columns: dict[str, list[int]] = {bucket: [] for bucket in DELINQUENT_BUCKETS}
    for period in periods:
        unpaid = _delinquent_at(period.last_day)
        for bucket in DELINQUENT_BUCKETS:
            columns[bucket].append(unpaid.get(bucket, 0))
    return {bucket: tuple(values) for bucket, values in columns.items()}


def _delinquent_at(day: date) -> dict[str, int]:
    """Unpaid principal by delinquent bucket on `day`, from each loan's latest aging dated by then."""
    latest = (Event.objects.filter(event_type=DelinquencyChanged.event_type, stream__startswith="loan:",
                                   effective_date__lte=day)
              .annotate(rank=Window(RowNumber(), partition_by=[F("stream")], order_by=F("position").desc()))
              .filter(rank=1).values_list("stream", "payload"))
    bucket_of = {stream.split(":", 1)[1]: DelinquencyChanged.from_payload(payload).to_bucket
                 for stream, payload in latest}
    behind = [loan for loan, bucket in bucket_of.items() if bucket in DELINQUENT_BUCKETS]
    balances = account_balances([accounts.principal(loan) for loan in behind], as_of=day)
    unpaid: dict[str, int] = {}
    for loan in behind:
        unpaid[bucket_of[loan]] = unpaid.get(bucket_of[loan], 0) + max(balances[accounts.principal(loan)], 0)
    return unpaid
