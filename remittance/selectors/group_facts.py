"""The facts of a group of trusts' closes of one period, read together in a few set-based statements.

The month-end closes trusts in groups (remittance.services.closing.trusts_close). This reads
what every trust of a group computes on (each pool loan's terms, balances and collections in
its window, the removal proceeds, what the previous close left, the pool's original balance)
with a fixed number of statements for the whole group, whatever its trusts and loans: the
collection lines are summed GROUP BY trust and loan over a join with the pool memberships, each
trust's window (its previous close's day and position) given as a row of a VALUES list; every
loan's two balances come from one sum over the postings; rows are read as tuples, never as a
model instance per loan.

The rules are those of remittance.selectors.period_facts, the one-trust reader, to the cent:
the window, the pool's interval convention (trusts.models.PoolLoan), a removal recorded after
the close's position not yet there, a returned payment belonging to the trust that received it,
the balances as the log stood at the position the close read up to. period_facts stays as it
is: verify_ledger re-derives every closed period with it, so each close made from these facts
is checked against the other reader; tests/integration/remittance/test_group_facts.py compares
the two on a book with every kind of money and loans moving between trusts.

Each trust's structure (trusts.selectors.deal_structure) gives its classes their features and its
close its standing (period_facts.period_standing's rules): the loans' positions at the period's end
are read, in one fold for the group, only for the trusts whose triggers test delinquency, and the
clean-up call only for the trusts that have one, so a group of standard trusts reads nothing more.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import NamedTuple

from django.db import connection
from django.db.models import Sum

from ledger.models import Event, Posting
from remittance.domain.close_figures import Carried, LoanFacts, PeriodStanding
from remittance.domain.trust_calendar import Period
from remittance.models import ClassPeriod, PeriodResult
from remittance.selectors.period_facts import (
    AMOUNTS, CASH_AMOUNTS, CLOSING_EVENTS, Window, add_removal_proceeds, carried_from, delinquent_at_end,
    end_balances, standing_of, tests_delinquency,
)
from servicing.domain import accounts
from servicing.events import PaymentReturned
from servicing.selectors import positions_as_of, terms_in_force
from servicing.models import CLOSED_STATUSES, CollectionLine, Loan, LoanPosition, loan_stream
from trusts.events import PoolLoanRemoved, RemovalProceedsTrued
from trusts.models import PoolLoan, SecurityClass, Trust, membership_covers, trust_stream
from trusts.domain.deal_structure import STANDARD_STRUCTURE, DealStructure
from trusts.selectors import deal_structure, holders_of_record_by_class_id

# The trust's events that pay removal proceeds into it: a repurchase or buyout, and a true-up of one.
REMOVAL_TYPES = (PoolLoanRemoved.event_type, RemovalProceedsTrued.event_type)


@dataclass(frozen=True, slots=True)
class TrustFacts:
    """Everything one trust's close computes on: its window, its loans' facts, what was carried in."""

    trust: Trust
    window: Window
    loans: list[LoanFacts]
    carried: Carried
    classes: list[SecurityClass]  # by priority and name
    pool_original_cents: int
    structure: DealStructure = STANDARD_STRUCTURE
    standing: PeriodStanding = PeriodStanding()

    @property
    def scheduled(self) -> bool:
        return self.trust.remittance_type == Trust.RemittanceType.SCHEDULED_SCHEDULED


@dataclass(frozen=True, slots=True)
class _Return:
    """A PaymentReturned read once for the group: its loan, when it was returned, the payment it takes back."""

    position: int
    loan_number: str
    returned_on: date
    received_on: date
    original_position: int


class _Membership(NamedTuple):
    """One PoolLoan row: its removal date as stored now, and as the log stood at the close's position
    (None when the removal was recorded after it: the loan is still in the pool for this close)."""

    loan_id: str
    transferred_on: date
    removed_on: date | None
    removed_at_position: date | None


@dataclass(slots=True)
class _Group:
    """The group's reads, by trust id."""

    trusts: dict[int, Trust]
    period: Period
    through: int
    windows: dict[int, Window] = field(default_factory=dict)
    previous: dict[int, PeriodResult] = field(default_factory=dict)
    memberships: dict[int, list[_Membership]] = field(default_factory=dict)
    sums: dict[int, dict[str, dict[str, int]]] = field(default_factory=dict)
    removals: dict[int, dict[str, dict[str, int]]] = field(default_factory=dict)


def group_facts(trusts: Sequence[Trust], period: Period, through_position: int) -> dict[int, TrustFacts]:
    """Each trust's facts for closing `period` on the log as it stood at `through_position`, by trust id.

    A fixed number of queries for the whole group (period_facts.loan_facts's rules, see the module docstring).
    """
    if not trusts:
        return {}
    group = _Group(trusts={t.pk: t for t in trusts}, period=period, through=through_position)
    group.previous = {r.trust_id: r for r in PeriodResult.objects.filter(
        trust_id__in=list(group.trusts), period=str(period.previous()))}
    group.windows = {pk: _window(t, period, through_position, group.previous.get(pk))
                     for pk, t in group.trusts.items()}
    group.memberships = _memberships(group)
    returns = _returns(group)
    group.sums = _window_sums(group, returns)
    _add_returns(group, returns)
    group.removals = _removal_proceeds(group)
    numbers = sorted({m.loan_id for ms in group.memberships.values() for m in ms})
    terms = _terms(list(group.trusts))
    # An ARM's rate and P&I for the period: those in force for its installment due in it (servicing's read).
    for number, (rate, payment) in terms_in_force(numbers, due_by=period.last_day, through_position=through_position
                                                  ).items():
        terms[number] = (rate, terms[number][1], payment)
    begin, end = _balances(numbers, period, through_position)
    scheduled = [pk for pk, t in group.trusts.items() if t.remittance_type == Trust.RemittanceType.SCHEDULED_SCHEDULED]
    closed = _closed_by(scheduled, through_position)
    classes = _classes(group)
    structures = {pk: deal_structure(t) for pk, t in group.trusts.items()}
    carried = _carried(group, classes, structures)
    originals = _pool_originals(group)
    loans = {pk: _loans(group, pk, terms, begin, end, closed if pk in scheduled else None) for pk in group.trusts}
    standings = _standings(group, structures, loans, originals)
    return {pk: TrustFacts(trust=trust, window=group.windows[pk], loans=loans[pk], carried=carried[pk],
                           classes=classes.get(pk, []), pool_original_cents=originals.get(pk, 0),
                           structure=structures[pk], standing=standings[pk])
            for pk, trust in group.trusts.items()}


def _standings(group: _Group, structures: Mapping[int, DealStructure], loans: Mapping[int, list[LoanFacts]],
               originals: Mapping[int, int]) -> dict[int, PeriodStanding]:
    """Each trust's standing (period_facts.period_standing's rules): the positions of the loans of every trust
    whose triggers test delinquency in one read, the call only of the trusts that have one."""
    period = group.period
    testing = {pk: end_balances(loans[pk]) for pk, s in structures.items() if tests_delinquency(s)}
    numbers = sorted({number for balances in testing.values() for number in balances})
    positions = positions_as_of(numbers, day=period.last_day, through_position=group.through) if numbers else {}
    return {pk: standing_of(trust, period, group.through, structure=structures[pk],
                            delinquent=delinquent_at_end(testing[pk], period, positions) if pk in testing else (0, 0),
                            cutoff_balance_cents=originals.get(pk, 0))
            for pk, trust in group.trusts.items()}


def holders_of_record_by_trust(facts: Mapping[int, TrustFacts], record_dates: Mapping[int, date]
                               ) -> dict[int, dict[str, dict[str, int]]]:
    """Each trust's holders of record on its record date, class name -> holder -> face: a query per record date."""
    by_day: dict[date, list[SecurityClass]] = {}
    for pk, f in facts.items():
        by_day.setdefault(record_dates[pk], []).extend(f.classes)
    held: dict[int, dict[str, int]] = {}
    for day, classes in by_day.items():
        held.update(holders_of_record_by_class_id(class_ids=[c.pk for c in classes], record_date=day))
    return {pk: {c.name: held.get(c.pk, {}) for c in f.classes} for pk, f in facts.items()}


# --- The window and the pool -------------------------------------------------------------------------


def _window(trust: Trust, period: Period, through: int, previous: PeriodResult | None) -> Window:
    # period_facts.window_for's rule: the first close takes everything since the cut-off.
    if previous is None:
        return Window(period.last_day, through, trust.cutoff_date, through)
    return Window(period.last_day, through, period.previous().last_day, previous.through_position)


def _memberships(group: _Group) -> dict[int, list[_Membership]]:
    """Every PoolLoan row of the group's trusts, each marked late when its removal was recorded after the position."""
    streams = {trust_stream(t.code): pk for pk, t in group.trusts.items()}
    late: set[tuple[int, str]] = {
        (streams[stream], PoolLoanRemoved.from_payload(payload).loan_number) for stream, payload in
        Event.objects.filter(stream__in=list(streams), event_type=PoolLoanRemoved.event_type,
                             position__gt=group.through).values_list("stream", "payload")}
    memberships: dict[int, list[_Membership]] = {pk: [] for pk in group.trusts}
    rows = PoolLoan.objects.filter(trust_id__in=list(group.trusts)).order_by("trust_id", "loan_id", "id")
    for trust_id, loan_id, transferred_on, removed_on in rows.values_list(
            "trust_id", "loan_id", "transferred_on", "removed_on"):
        at_position = None if removed_on is not None and (trust_id, loan_id) in late else removed_on
        memberships[trust_id].append(_Membership(loan_id, transferred_on, removed_on, at_position))
    return memberships


def _loans(group: _Group, pk: int, terms: Mapping[str, tuple], begin: Mapping[str, int], end: Mapping[str, int],
           closed: set[str] | None) -> list[LoanFacts]:
    """The trust's pool loans' facts (period_facts.loan_facts's rules); closed: None when the trust advances nothing.

    A loan is covered when it was in the pool during the period, or has money of its own in the window
    (a loan removed before the period: a late payment or a return of one); membership as of the position.
    """
    start, last_day = group.period.first_day, group.period.last_day
    day_after = last_day + timedelta(days=1)
    sums, removals = group.sums.get(pk, {}), group.removals.get(pk, {})
    none: dict[str, int] = {}
    facts = []
    for number, transferred_on, _, removed_on in group.memberships[pk]:
        if transferred_on > last_day or (removed_on is not None and removed_on < start
                                         and number not in sums and number not in removals):
            continue
        amounts = sums.get(number, none)
        removed = removals.get(number)
        if removed:
            amounts = {**amounts}
            for key, cents in removed.items():
                amounts[key] = amounts.get(key, 0) + cents
        in_pool_at_start = membership_covers(transferred_on, removed_on, start)
        note_rate, servicing_fee_rate, payment_pi_cents = terms[number]
        facts.append(LoanFacts(
            loan_number=number, balance_begin_cents=begin.get(number, 0) if in_pool_at_start else 0,
            # Still in the pool at the period's end (period_facts.loan_facts says why a later removal counts).
            balance_end_cents=end.get(number, 0) if membership_covers(transferred_on, removed_on, day_after) else 0,
            note_rate=note_rate, servicing_fee_rate=servicing_fee_rate, payment_pi_cents=payment_pi_cents,
            in_pool_at_start=in_pool_at_start, advancing=closed is not None and number not in closed,
            # The amounts by their LoanFacts names (the collection kinds, prior-period, repurchase); absent is 0.
            **amounts,
        ))
    return facts


# --- The collections in each window ------------------------------------------------------------------


def _returns(group: _Group) -> list[_Return]:
    """Every payment returned up to the period's end and the position (any trust's; returns are few)."""
    rows = Event.objects.filter(event_type=PaymentReturned.event_type, effective_date__lte=group.period.last_day,
                                position__lte=group.through).values_list("position", "effective_date", "payload")
    returns = []
    for position, returned_on, payload in rows:
        fact = PaymentReturned.from_payload(payload)
        returns.append(_Return(position, fact.loan_number, returned_on, fact.received_on,
                               fact.returned_event_position))
    return returns


def _in_window(window: Window, effective_date: date, position: int) -> bool:
    """Window.events()/lines() for one row already known to be dated and recorded up to the window's end."""
    return not (effective_date <= window.previous_last_day and position <= window.previous_through)


def _window_sums(group: _Group, returns: Sequence[_Return]) -> dict[int, dict[str, dict[str, int]]]:
    """Each trust's pool loans' collections in its window, by kind, and the part that is a prior-period item.

    One statement for the group: period_facts.window_sums's join of the lines with the memberships whose
    range holds their date, GROUP BY trust and loan; a returned payment's own line is left to `_add_returns`.
    """
    values = _Values()
    windows = values.rows("w", ("trust_id", "previous_last_day", "previous_through"), ("integer", "date", "bigint"),
                          [(pk, w.previous_last_day, w.previous_through) for pk, w in group.windows.items()])
    late = values.rows("late", ("trust_id", "loan_id"), ("integer", "varchar"),
                       [(pk, m.loan_id) for pk, ms in group.memberships.items() for m in ms
                        if m.removed_on != m.removed_at_position])
    own_returns = values.rows("ret", ("trust_id", "position"), ("integer", "bigint"), [
        (pk, r.position) for pk, w in group.windows.items() for r in returns
        if _in_window(w, r.returned_on, r.position)])
    line, pool = CollectionLine._meta.db_table, PoolLoan._meta.db_table
    prior = "CASE WHEN cl.effective_date <= w.previous_last_day THEN cl.{k} END"
    sql = f"""
        WITH {", ".join(c for c in (windows, late, own_returns) if c)}
        SELECT pl.trust_id, cl.loan_id, {", ".join(f"SUM(cl.{k})" for k in AMOUNTS)},
               {", ".join("SUM(" + prior.format(k=k) + ")" for k in CASH_AMOUNTS)}
        FROM {line} cl
        JOIN {pool} pl ON pl.loan_id = cl.loan_id
        JOIN w ON w.trust_id = pl.trust_id
        WHERE cl.effective_date <= {values.param(group.period.last_day, "date")}
          AND cl.event_position <= {values.param(group.through, "bigint")}
          AND NOT (cl.effective_date <= w.previous_last_day AND cl.event_position <= w.previous_through)
          AND cl.effective_date > pl.transferred_on
          AND (pl.removed_on IS NULL OR cl.effective_date <= pl.removed_on
               {"OR EXISTS (SELECT 1 FROM late WHERE late.trust_id = pl.trust_id AND late.loan_id = cl.loan_id)"
                if late else ""})
          {"AND NOT EXISTS (SELECT 1 FROM ret WHERE ret.trust_id = pl.trust_id AND ret.position = cl.event_position)"
           if own_returns else ""}
        GROUP BY pl.trust_id, cl.loan_id
    """  # nosec B608: table names from the models, every value a parameter
    sums: dict[int, dict[str, dict[str, int]]] = {pk: {} for pk in group.trusts}
    with connection.cursor() as cursor:
        cursor.execute(sql, values.params)
        for trust_id, loan_id, *totals in cursor.fetchall():
            amounts = {k: int(total or 0) for k, total in zip(AMOUNTS, totals)}
            amounts["prior_period_cents"] = sum(int(total or 0) for total in totals[len(AMOUNTS):])
            sums[trust_id][loan_id] = amounts
    return sums


def _add_returns(group: _Group, returns: Sequence[_Return]) -> None:
    """Add each return of a payment a trust received to that trust's sums (period_facts._add_returns's rule)."""
    if not returns:
        return
    lines = {row[0]: row for row in CollectionLine.objects.filter(
        event_position__in=[r.position for r in returns]).values_list("event_position", "loan_id", *AMOUNTS)}
    for pk, window in group.windows.items():
        # Membership as stored now (not as of the position): as the one-trust reader asks it.
        members = group.memberships[pk]
        ours = [r for r in returns if _in_window(window, r.returned_on, r.position) and any(
            m.loan_id == r.loan_number and membership_covers(m.transferred_on, m.removed_on, r.received_on)
            for m in members)]
        for returned in sorted(ours, key=lambda r: r.position):
            line = lines.get(returned.position)
            if line is None:
                continue
            cents = dict(zip(AMOUNTS, line[2:]))
            amounts = group.sums[pk].setdefault(line[1], {k: 0 for k in (*AMOUNTS, "prior_period_cents")})
            for key in AMOUNTS:
                amounts[key] += cents[key]
            taken_before = (returned.received_on <= window.previous_last_day
                            and returned.original_position <= window.previous_through)
            if taken_before or returned.returned_on <= window.previous_last_day:
                amounts["prior_period_cents"] += sum(cents[k] for k in CASH_AMOUNTS)


def _removal_proceeds(group: _Group) -> dict[int, dict[str, dict[str, int]]]:
    """Each trust's repurchase and buyout proceeds, and their true-ups, in its window, by loan."""
    streams = {trust_stream(t.code): pk for pk, t in group.trusts.items()}
    removed: dict[int, dict[str, dict[str, int]]] = {pk: {} for pk in group.trusts}
    rows = Event.objects.filter(stream__in=list(streams), event_type__in=REMOVAL_TYPES,
                                effective_date__lte=group.period.last_day, position__lte=group.through)
    for stream, position, event_type, effective_date, payload in rows.values_list(
            "stream", "position", "event_type", "effective_date", "payload"):
        pk = streams[stream]
        window = group.windows[pk]
        if not _in_window(window, effective_date, position):
            continue
        add_removal_proceeds(removed[pk], event_type, payload,
                             prior_period=effective_date <= window.previous_last_day)
    return removed


# --- The loans' terms, balances and closings ----------------------------------------------------------


def _terms(trust_ids: list[int]) -> dict[str, tuple]:
    """(note rate, servicing fee rate, payment) of every loan ever in the trusts' pools: one join."""
    rows = Loan.objects.filter(pool_memberships__trust_id__in=trust_ids).values_list(
        "loan_number", "note_rate", "servicing_fee_rate", "payment_pi_cents")
    return {number: (note, fee, payment) for number, note, fee, payment in rows}


def _balances(numbers: list[str], period: Period, through: int) -> tuple[dict[str, int], dict[str, int]]:
    """Each loan's unpaid principal at the end of the day before the period and of its last day, as the log
    stood at `through` (period_facts._balances's rule): both from one sum over the principal accounts."""
    if not numbers:
        return {}, {}
    by_account = {accounts.principal(n): n for n in numbers}
    values = _Values()
    sql = f"""
        SELECT account, SUM(CASE WHEN effective_date <= {values.param(period.first_day - timedelta(days=1), "date")}
                                 THEN amount_cents END),
               SUM(amount_cents)
        FROM {Posting._meta.db_table}
        WHERE {values.among("account", list(by_account), "varchar")}
          AND effective_date <= {values.param(period.last_day, "date")}
          AND event_id <= {values.param(through, "bigint")}
        GROUP BY account
    """  # nosec B608: the table name from the model, every value a parameter
    begin, end = {}, {}
    with connection.cursor() as cursor:
        cursor.execute(sql, values.params)
        for account, before, total in cursor.fetchall():
            if before is not None:  # no posting by then: absent, as in the one-trust reader (0 either way)
                begin[by_account[account]] = int(before)
            end[by_account[account]] = int(total)
    return begin, end


def _closed_by(trust_ids: list[int], through: int) -> set[str]:
    """Loans of these (scheduled) trusts' pools paid off, liquidated or charged off by an event at or before
    `through`: a closed loan is not advanced on."""
    if not trust_ids:
        return set()
    closed_now = set(LoanPosition.objects.filter(
        status__in=CLOSED_STATUSES, loan__pool_memberships__trust_id__in=trust_ids).values_list("loan_id", flat=True))
    streams = Event.objects.filter(stream__in=[loan_stream(n) for n in sorted(closed_now)],
                                   event_type__in=CLOSING_EVENTS, position__lte=through).values_list("stream", flat=True)
    return {stream.split(":", 1)[1] for stream in streams}


# --- What the previous close left, the classes, the pool's original balance ---------------------------


def _classes(group: _Group) -> dict[int, list[SecurityClass]]:
    classes: dict[int, list[SecurityClass]] = {}
    for c in SecurityClass.objects.filter(trust_id__in=list(group.trusts)).order_by("trust_id", "priority", "name"):
        classes.setdefault(c.trust_id, []).append(c)
    return classes


def _carried(group: _Group, classes: Mapping[int, list[SecurityClass]],
             structures: Mapping[int, DealStructure]) -> dict[int, Carried]:
    """period_facts.carried_into for every trust of the group: one read of the previous close's class rows."""
    rows = {row.security_class_id: row for row in ClassPeriod.objects.filter(
        security_class__trust_id__in=list(group.previous), period=str(group.period.previous()))}
    carried = {}
    for pk in group.trusts:
        previous = group.previous.get(pk)
        carried[pk] = carried_from(classes.get(pk, []), rows, previous.period_closed if previous else None,
                                   structures[pk])
    return carried


def _pool_originals(group: _Group) -> dict[int, int]:
    rows = (PoolLoan.objects.filter(trust_id__in=list(group.trusts)).values("trust_id")
            .annotate(total=Sum("cutoff_balance_cents")).values_list("trust_id", "total"))
    return {trust_id: total or 0 for trust_id, total in rows}


# --- Parameters of the raw statements, the same text on PostgreSQL and SQLite -------------------------


class _Values:
    """The parameters of one raw statement, in order, and the SQL that takes them.

    PostgreSQL is told each parameter's type (a VALUES list's literals carry none) and takes a long
    list as one array; SQLite stores dates as ISO text and compares them as text, and takes an IN list.
    """

    def __init__(self) -> None:
        self.params: list[object] = []
        self.postgres = connection.vendor == "postgresql"

    def param(self, value: object, sql_type: str) -> str:
        self.params.append(value.isoformat() if isinstance(value, date) else value)
        return f"CAST(%s AS {sql_type})" if self.postgres else "%s"

    def rows(self, name: str, columns: Sequence[str], types: Sequence[str], rows: Iterable[Sequence]) -> str:
        """`name (columns) AS (VALUES ...)` for a WITH clause; empty text when there is no row."""
        rendered = [f"({', '.join(self.param(v, t) for v, t in zip(row, types))})" for row in rows]
        return f"{name} ({', '.join(columns)}) AS (VALUES {', '.join(rendered)})" if rendered else ""

    def among(self, column: str, values: list, sql_type: str) -> str:
        """`column` is one of `values`."""
        if self.postgres:
            self.params.append(values)
            return f"{column} = ANY(CAST(%s AS {sql_type}[]))"
        self.params.extend(values)
        return f"{column} IN ({', '.join('%s' for _ in values)})"
