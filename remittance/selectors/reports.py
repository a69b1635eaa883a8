"""Reports from a closed period's read models: the trust's remittance report, an investor's statement
and the factor file. Selectors only: they read and never write.

The remittance report includes the prepayment speeds the pool realized in the period (`period_speeds`,
the SIFMA standard's way, with remittance.domain.speeds' formulas): SMM, CPR and PSA as percent strings with six
decimals (PSA None when it cannot be stated), the loan month and the scheduled and actual end balances; then
the voluntary rates (liquidations excluded), MDR, CDR and loss severity over 1, 3, 6 and 12 months and life.

A structured deal's report (trusts.domain.deal_structure: a trustee fee, a reserve account,
over-collateralisation, triggers, accrual or other non-standard classes, a clean-up call) adds a
`deal` section (`deal_section`) and its class lines their kind and accrued interest, and its
reconciliation counts the trustee fee and the reserve; a standard deal's report is as it always was.

Each builder returns plain dicts with money in integer cents under keys ending in `_cents`, dates as
`date`, rates and factors as strings (factors to 8 decimals); `period_speeds` returns a `RealizedSpeeds`.
remittance.domain.report_formats renders them (JSON-safe values, CSV, text tables for people) without
a database. A period that is not closed, an unknown trust or holder, or nothing to report raises
`ReportUnavailable` with a message naming the problem.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Sum

from ledger.domain.money import round_ratio_half_up
from ledger.selectors import account_balances
from remittance.domain.trust_calendar import Period, record_date
from remittance.domain.close_figures import COLLECTION_KINDS
from remittance.domain.loan_calendar import installments_due, scheduled_balance_cents
from remittance.events import ClassLine, PeriodClosed, TriggerTest
from remittance.models import ClassPeriod, Distribution, PeriodResult
from remittance.domain.reconciliation import cash_collected_cents, closed_period_reconciliation
from remittance.domain.report_formats import CLASS_FIELDS, SPLIT_KEYS
from remittance.domain.speeds import (
    MonthActivity, Speeds, SplitSpeeds, percent_text, period_split, speeds_from_balances, window_split,
)
from servicing.domain import accounts
from servicing.models import Loan
from servicing.selectors import terms_in_force
from trusts.domain.factors import factor_text
from trusts.models import Holder, SecurityClass, Trust
from trusts.selectors import PoolMember, ValuedHolding, holdings_valued_as_of, pool_members

POOL_ROW = "(pool)"  # the factor file's row for a trust's whole pool


class ReportUnavailable(ValueError):
    """The report asked for cannot be produced (the message says why)."""


# ------------------------------------------------------------------ remittance report


def remittance_report(trust_code: str, period: str | Period) -> dict:
    """One trust's closed period: collections, deductions, classes, excess, pool, the prepayment speeds the
    pool realized (`period_speeds`), the holders paid and the reconciliation."""
    trust, month = _trust(trust_code), _period(period)
    result = PeriodResult.objects.filter(trust=trust, period=str(month)).first()
    if result is None:
        raise ReportUnavailable(f"{trust.code} {month} is not closed")
    f = result.period_closed
    holders = _holders_paid(trust, str(month))
    structured = is_structured(f)
    report = {
        "header": {"trust": trust.code, "name": trust.name, "period": str(month), "record_date": result.record_date,
                   "payment_date": result.payment_date, "remittance_type": trust.remittance_type},
        "collections": {"by_kind": {f"{kind}_cents": f.collected[kind] for kind in COLLECTION_KINDS},
                        "cash_cents": cash_collected_cents(f.collected), "prior_period_cents": f.prior_period_cents,
                        **_returns_carried(f)},
        "advances": _advances(f),
        "servicing_fee": _deduction(f.servicing_fee_cents, due=f.fee_due_cents, paid=f.fee_paid_cents,
                                    shortfall=f.fee_shortfall_cents),
        "issuer_spread": _deduction(f.issuer_spread_cents, due=f.spread_due_cents, paid=f.spread_paid_cents,
                                    shortfall=f.spread_shortfall_cents),
        "classes": [_class_line(c, structured=structured) for c in f.classes],
        "excess": {"residual_holder": trust.residual_holder, "interest_cents": f.excess_interest_cents,
                   "principal_cents": f.excess_principal_cents, "total_cents": f.excess_cents},
        "retained": {"unplaced_share_cents": f.retained_cents},
        "pool": {"original_cents": f.pool_original_cents, "balance_begin_cents": f.pool_balance_begin_cents,
                 "balance_end_cents": f.pool_balance_end_cents, "factor": factor_text(f.pool_factor),
                 **period_rates(trust, result)},
        "speeds": speeds_section(*_speeds_through(trust, result)),
        "holders": holders,
        "reconciliation": _reconciliation(f, holders["paid_cents"], structured=structured),
    }
    if structured:
        report["deal"] = deal_section(f)
    return report


def is_structured(f: PeriodClosed) -> bool:
    """Whether the close ran any of a structured deal's figures (a standard deal's are all zero, None, standard)."""
    return bool(
        f.trustee_fee_due_cents or f.trustee_fee_paid_cents or f.accrual_cents or f.oc_target_cents
        or f.oc_end_cents or f.turbo_principal_cents or f.reserve_balance_begin_cents or f.reserve_funded_cents
        or f.reserve_balance_end_cents or f.reserve_released_cents or f.triggers is not None or f.trigger_failed
        or f.call_retired or any(c.kind != "standard" or c.interest_accrued_cents for c in f.classes))


def deal_section(f: PeriodClosed) -> dict:
    """A structured deal's own figures for the period: the trustee fee, the accrual, the over-collateralisation,
    the reserve account, each trigger's test and the principal rule it chose, the cumulative loss, the call."""
    return {
        "period_number": f.period_number,
        "trustee_fee": _deduction(f.trustee_fee_cents, due=f.trustee_fee_due_cents, paid=f.trustee_fee_paid_cents,
                                  shortfall=f.trustee_fee_shortfall_cents),
        "accrual_cents": f.accrual_cents,
        "overcollateralization": {"target_cents": f.oc_target_cents, "end_cents": f.oc_end_cents,
                                  "release_cents": f.oc_release_cents, "turbo_principal_cents": f.turbo_principal_cents,
                                  "loss_absorbed_cents": f.loss_absorbed_by_oc_cents},
        "reserve": {"balance_begin_cents": f.reserve_balance_begin_cents - f.reserve_funded_cents,
                    "funded_cents": f.reserve_funded_cents, "draw_cents": f.reserve_draw_cents,
                    "deposit_cents": f.reserve_deposit_cents, "released_cents": f.reserve_released_cents,
                    "balance_end_cents": f.reserve_balance_end_cents},
        "triggers": trigger_lines(f.triggers, failed_before=f.trigger_failed),
        "cumulative_loss_cents": f.cumulative_loss_cents,
        "call": {"retired": f.call_retired, "written_off_cents": f.call_written_off_cents},
    }


TRIGGER_TESTS = (("cumulative_loss", "cumulative loss (% of the cut-off balance)"),
                 ("delinquency_60", "60+ days delinquent (% of the pool)"),
                 ("delinquency_90", "90+ days delinquent (% of the pool)"))
PERCENT_PLACES = Decimal("0.0001")


def trigger_lines(t: TriggerTest | None, *, failed_before: bool) -> dict | None:
    """Each trigger test the deal has: its value and limit (percent strings, 4 decimals), passed or failed; then
    whether the step-down date was reached, whether a failure is in effect (this period or a sticky earlier one)
    and the principal rule used. None for a deal without triggers."""
    if t is None:
        return None
    tests = []
    for key, label in TRIGGER_TESTS:
        value, limit = getattr(t, f"{key}_percent"), getattr(t, f"{key}_limit")
        if limit is None:
            continue
        tests.append({"test": key, "label": label, "value": _percent_places(value), "limit": _percent_places(limit),
                      "passed": value <= limit})
    return {"tests": tests, "stepdown_reached": t.stepdown_reached, "failed": t.failed, "in_effect": t.in_effect,
            "sticky_failure_carried": failed_before, "principal_rule": t.principal_rule}


def _percent_places(value: Decimal) -> str:
    return f"{value.quantize(PERCENT_PLACES, rounding=ROUND_HALF_UP)}"


def _speeds_through(trust: Trust, result: PeriodResult) -> tuple[RealizedSpeeds, dict[str, SplitSpeeds | None]]:
    """The period's realized speeds, and the windows of its history (every closed period up to it)."""
    history = periods_speeds(trust, list(PeriodResult.objects.filter(trust=trust, period__lte=result.period)
                                         .order_by("period")))
    return history[-1], speed_windows(history)


def period_rates(trust: Trust, result: PeriodResult) -> dict:
    """The period's weighted average note rate of the pool's loans (the rates in force for the period's
    installments: an ARM's change counts from its first installment), and the net rate passed through (less
    the servicing fee and the issuer's spread), weighted by each loan's balance at the period's start; percent
    strings with 4 decimals, None for an empty pool."""
    period = Period.parse(result.period)
    numbers = [m.loan_id for m in pool_members(trust)[0]
               if m.transferred_on <= period.last_day and m.covers(period.first_day)]
    begins = _principal_balances(numbers, as_of=period.first_day - timedelta(days=1))
    total = sum(begins.values())
    if not total:
        return {"weighted_note_rate": None, "weighted_net_rate": None}
    rates = {n: (note, fee) for n, note, fee in Loan.objects.filter(pk__in=numbers).values_list(
        "loan_number", "note_rate", "servicing_fee_rate")}
    for number, (note, _payment) in terms_in_force(numbers, due_by=period.last_day,
                                                   through_position=result.through_position).items():
        rates[number] = (note, rates[number][1])
    note = sum(begin * rates[n][0] for n, begin in begins.items()) / total
    fee = sum(begin * rates[n][1] for n, begin in begins.items()) / total
    places = Decimal("0.0001")
    return {"weighted_note_rate": f"{note.quantize(places, rounding=ROUND_HALF_UP)}",
            "weighted_net_rate": f"{(note - fee - trust.issuer_spread_rate).quantize(places, rounding=ROUND_HALF_UP)}"}


def speeds_section(realized: RealizedSpeeds, windows: dict[str, SplitSpeeds | None]) -> dict:
    """The report's realized speeds: SMM, CPR and PSA as percent strings ("0.512345"; psa may be None).

    It builds the report's values, as `_class_line` does for a class (rates and factors as strings, money
    in cents), so it stays with the report it is a section of: every renderer, and the API's schema,
    takes the section as this dict.

    The keys are the published report's (its JSON, CSV and the API), kept as they were when the end
    balances were named `scheduled_end_cents` and `actual_end_cents` in the code too.
    """
    return {"smm": percent_text(realized.speeds.smm), "cpr": percent_text(realized.speeds.cpr),
            "psa": percent_text(realized.speeds.psa), "loan_month": realized.loan_month,
            "scheduled_end_cents": realized.balance_end_scheduled_cents,
            "actual_end_cents": realized.balance_end_actual_cents,
            "voluntary_cents": realized.activity.voluntary_cents,
            "defaulted_cents": realized.activity.defaulted_cents, "loss_cents": realized.activity.loss_cents,
            "windows": {name: split_fields(windows[name]) for name, _months in SPEED_WINDOWS}}


def split_fields(split: SplitSpeeds | None) -> dict:
    """Voluntary SMM/CPR/PSA, MDR/CDR and severity as percent strings (all None for a window not stated)."""
    if split is None:
        return dict.fromkeys(SPLIT_KEYS)
    values = (split.smm, split.cpr, split.psa, split.mdr, split.cdr, split.severity)
    return {name: percent_text(value) for name, value in zip(SPLIT_KEYS, values)}


def _trust(code: str) -> Trust:
    trust = Trust.objects.filter(code=code).first()
    if trust is None:
        raise ReportUnavailable(f"no trust {code!r}")
    return trust


def _period(period: str | Period) -> Period:
    if isinstance(period, Period):
        return period
    try:
        return Period.parse(period)
    except ValueError as error:
        raise ReportUnavailable(str(error)) from None


def _returns_carried(f: PeriodClosed) -> dict:
    """Returned payments an earlier close could not recover, recovered here first; and what this close could
    not recover, carried to the next (remittance.domain.close_figures.recover_returns). 0 for closes recorded before."""
    return {"returns_carried_in_cents": f.returns_carried_in_cents,
            "returns_carried_out_cents": f.returns_outstanding_cents}


def _advances(f: PeriodClosed) -> dict:
    outstanding = f.advances_outstanding.values()
    return {"advanced_cents": f.advanced_cents, "recovered_cents": f.recovered_cents,
            "outstanding_interest_cents": sum(pair[0] for pair in outstanding),
            "outstanding_principal_cents": sum(pair[1] for pair in outstanding)}


def _deduction(this_period_cents: int, *, due: int, paid: int, shortfall: int) -> dict:
    return {"this_period_cents": this_period_cents, "carried_cents": due - this_period_cents, "due_cents": due,
            "paid_cents": paid, "shortfall_cents": shortfall}


def _class_line(c: ClassLine, *, structured: bool = False) -> dict:
    line = {"class": c.class_name, "coupon": c.coupon,
            **{f"{name}_cents": getattr(c, f"{name}_cents") for name in CLASS_FIELDS},
            "factor": factor_text(c.factor)}
    if structured:  # an accrual class's balance grows by what accrued; an IO's balances are its notional
        line.update(kind=c.kind, interest_accrued_cents=c.interest_accrued_cents)
    return line


def _holders_paid(trust: Trust, period: str) -> dict:
    """Who the period paid, counted from the holders' own distributions (not copied from the close)."""
    rows = Distribution.objects.filter(security_class__trust=trust, period=period)
    totals = rows.aggregate(holders=Count("holder", distinct=True), payments=Count("pk"),
                            interest=Sum("interest_cents"), principal=Sum("principal_cents"))
    return {"holders_paid": totals["holders"], "payments": totals["payments"],
            "paid_cents": (totals["interest"] or 0) + (totals["principal"] or 0)}


def _reconciliation(f: PeriodClosed, paid_to_holders_cents: int, *, structured: bool = False) -> dict:
    """Cash in (collected + advanced - recovered - returns carried in + returns carried out) against
    fee + spread + holders (their own distributions) + excess + retained: remittance.domain.reconciliation.
    A structured deal's adds what the reserve paid out to the cash in, and the trustee fee and what went into
    and out of the reserve to the out."""
    r = closed_period_reconciliation(f, paid_to_holders_cents=paid_to_holders_cents)
    parts = {"servicing_fee_cents": r.fee_paid_cents, "issuer_spread_cents": r.spread_paid_cents,
             "paid_to_holders_cents": r.paid_to_holders_cents, "excess_cents": r.excess_cents,
             "retained_cents": r.retained_cents}
    if structured:
        parts = {"from_reserve_cents": r.from_reserve_cents, **parts, "trustee_fee_cents": r.trustee_fee_paid_cents,
                 "reserve_deposit_cents": r.reserve_deposit_cents, "reserve_released_cents": r.reserve_released_cents}
    return {"cash_in_cents": r.cash_in_cents, **parts, "out_cents": r.out_cents,
            "difference_cents": r.difference_cents, "reconciled": r.reconciled}


# ------------------------------------------------------------------ realized speeds


@dataclass(frozen=True, slots=True, kw_only=True)
class RealizedSpeeds:
    """The speeds a trust's pool realized in one closed period, and the balances they come from (cents)."""

    trust_code: str
    period: str
    balance_begin_cents: int
    balance_end_scheduled_cents: int
    balance_end_actual_cents: int
    loan_month: int
    speeds: Speeds
    activity: MonthActivity
    split: SplitSpeeds


# The windows the report states the voluntary and default rates over, by name: months back from the period.
SPEED_WINDOWS = (("1m", 1), ("3m", 3), ("6m", 6), ("12m", 12), ("life", None))


def speed_windows(history: Sequence[RealizedSpeeds]) -> dict[str, SplitSpeeds | None]:
    """The rates over the last 1, 3, 6 and 12 closed periods of `history` (oldest first) and over its life.

    A window longer than the history is None: a 12-month rate is never stated on 5 months.
    """
    activity = [r.activity for r in history]
    return {name: (window_split(activity) if months is None
                   else window_split(activity[-months:]) if len(activity) >= months else None)
            for name, months in SPEED_WINDOWS}


def period_speeds(trust: Trust, result: PeriodResult) -> RealizedSpeeds:
    """SMM, CPR and PSA the trust's pool realized in the closed period `result` records (SF B.2 a, B.3).

    The actual end balance is the published one (PeriodResult, whose factors are the pool's), less loans
    that joined the pool during the period; the scheduled end balance is the beginning balance amortized
    by the loans' own schedules, each loan paying the installments falling due in the period and nothing
    else. Everything else that left the pool (curtailments, payoffs, repurchases, liquidations) is
    prepayment. MONTH is the loans' average age at the end of the period, weighted by balance and rounded
    to the month (D.2), so the PSA is comparable to a projection's.
    """
    return periods_speeds(trust, [result])[0]


def periods_speeds(trust: Trust, results: Sequence[PeriodResult]) -> list[RealizedSpeeds]:
    """`period_speeds` of each of the trust's closed periods `results`, the pool and its loans read once."""
    members = pool_members(trust)[0]
    loans = {loan.pk: loan for loan in Loan.objects.filter(pk__in=[m.loan_id for m in members])}
    return [_realized(trust, result, members, loans) for result in results]


def _realized(trust: Trust, result: PeriodResult, pool: list[PoolMember], loans: dict[str, Loan]) -> RealizedSpeeds:
    period = Period.parse(result.period)
    members = [m for m in pool if m.transferred_on <= period.last_day]
    at_start = [m.loan_id for m in members if m.covers(period.first_day)]
    eve = period.first_day - timedelta(days=1)
    begins = _principal_balances(at_start, as_of=eve)
    begin_total = sum(begins.values())
    changed = terms_in_force(at_start, due_by=period.last_day, through_position=result.through_position)
    scheduled = sum(_scheduled_end(loans[n], begin, period, changed.get(n)) for n, begin in begins.items())
    # The published balances are the factors'; the loans' own schedules give the scheduled ratio.
    # Exact, half up (the one rounding of money): round() on the float quotient rounded twice, the second half-even.
    scheduled_end = (round_ratio_half_up(result.pool_balance_begin_cents * scheduled, begin_total)
                     if begin_total else 0)
    joined = [m.loan_id for m in members if m.transferred_on >= period.first_day and m.removed_on is None]
    actual_end = result.pool_balance_end_cents - sum(_principal_balances(joined, as_of=period.last_day).values())
    loan_month = max(1, _average_age(loans, begins, period))
    activity = month_activity(result.period_closed.collected, scheduled_end_cents=scheduled_end)
    return RealizedSpeeds(
        trust_code=trust.code, period=result.period, balance_begin_cents=result.pool_balance_begin_cents,
        balance_end_scheduled_cents=scheduled_end, balance_end_actual_cents=actual_end,
        loan_month=loan_month,
        speeds=speeds_from_balances(actual_end=actual_end, scheduled_end=scheduled_end, loan_month=loan_month),
        activity=activity, split=period_split(activity, loan_month=loan_month),
    )


def month_activity(collected: dict[str, int], *, scheduled_end_cents: int) -> MonthActivity:
    """A closed period's voluntary prepayments, defaults and loss from its collections by kind.

    Voluntary: curtailments and payoffs. Defaulted: the liquidated loans' principal, recovered and lost.
    Repurchases are neither (remittance.domain.speeds).
    """
    return MonthActivity(
        scheduled_end_cents=scheduled_end_cents,
        voluntary_cents=collected["curtailment"] + collected["payoff_principal"],
        defaulted_cents=collected["liquidation_principal"] + collected["realized_loss"],
        loss_cents=collected["realized_loss"])


def _principal_balances(loan_numbers: list[str], *, as_of: date) -> dict[str, int]:
    """Each loan's principal balance on a day, in one query for the whole pool."""
    balances = account_balances([accounts.principal(n) for n in loan_numbers], as_of=as_of)
    return {n: balances[accounts.principal(n)] for n in loan_numbers}


def _average_age(loans: dict[str, Loan], begins: dict[str, int], period: Period) -> int:
    """The loans' age at the end of the period (installments due by then), weighted by balance, rounded."""
    total = sum(begins.values())
    if not total:
        return 0
    weighted = sum(begin * installments_due(loans[n].first_payment_date, loans[n].term_months,
                                            through=period.last_day) for n, begin in begins.items())
    return round(weighted / total)


def _scheduled_end(loan: Loan, balance_begin_cents: int, period: Period,
                   in_force: tuple[Decimal, int] | None = None) -> int:
    """The loan's balance after the installments due in the period, on the terms in force for them."""
    due = installments_due(loan.first_payment_date, loan.term_months, through=period.last_day,
                           after=period.first_day - timedelta(days=1))
    rate, payment = in_force or (Decimal(loan.note_rate), loan.payment_pi_cents)
    return scheduled_balance_cents(balance_begin_cents, Decimal(rate), payment, due)


# ------------------------------------------------------------------ investor statement


def investor_statement(holder_code: str, period: str | Period) -> dict:
    """A holder's payments for one period across every trust and class, its holdings on the record date."""
    month = _period(period)
    holder = Holder.objects.filter(code=holder_code).first()
    if holder is None:
        raise ReportUnavailable(f"holder {holder_code} is unknown")
    rows = list(Distribution.objects.filter(holder=holder, period=str(month))
                .select_related("security_class__trust")
                .order_by("security_class__trust__code", "security_class__priority", "security_class__name"))
    if not rows:
        raise ReportUnavailable(f"holder {holder.code} has no distributions for {month}")
    factors = dict(ClassPeriod.objects.filter(security_class__in=[r.security_class_id for r in rows],
                                              period=str(month)).values_list("security_class_id", "factor"))
    on = record_date(month)
    lines = [_statement_line(r, factors.get(r.security_class_id)) for r in rows]
    return {
        "holder": {"code": holder.code, "name": holder.name}, "period": {"period": str(month), "record_date": on},
        "distributions": lines,
        "totals": {f"{part}_cents": sum(line[f"{part}_cents"] for line in lines)
                   for part in ("interest", "principal", "total")},
        "holdings": _holdings(holder, on),
    }


def _statement_line(row: Distribution, class_factor) -> dict:
    c = row.security_class
    return {"trust": c.trust.code, "class": c.name, "face_held_cents": row.face_held_cents,
            "factor": factor_text(class_factor) if class_factor is not None else "",
            "interest_cents": row.interest_cents, "principal_cents": row.principal_cents,
            "total_cents": row.total_cents, "payment_date": row.payment_date}


def _holdings(holder: Holder, on: date) -> list[dict]:
    """The holder's original face in each class on the register as of `on` (transfers settled by then)."""
    held = map(ValuedHolding.from_row, holdings_valued_as_of(holder=holder, as_of=on))
    return [{"trust": h.trust_code, "class": h.class_name, "face_held_cents": h.original_face_cents} for h in held]


# ------------------------------------------------------------------ factor file


def factor_file(period: str | Period) -> list[dict]:
    """Every trust closed for the period: each class's factor, balance and original face, then the pool's."""
    month = _period(period)
    results = list(PeriodResult.objects.filter(period=str(month)).select_related("trust").order_by("trust__code"))
    if not results:
        raise ReportUnavailable(f"no trust has closed {month}")
    class_rows = (ClassPeriod.objects.filter(period=str(month), security_class__trust__in=[r.trust for r in results])
                  .select_related("security_class")
                  .order_by("security_class__priority", "security_class__name"))
    by_trust: dict[int, list[ClassPeriod]] = {}
    for row in class_rows:
        by_trust.setdefault(row.security_class.trust_id, []).append(row)
    rows = []
    for result in results:
        rows += [_factor_row(result, row.security_class, row.factor, row.balance_end_cents)
                 for row in by_trust.get(result.trust_id, [])]
        rows.append(_factor_row(result, None, result.pool_factor, result.pool_balance_end_cents))
    return rows


def _factor_row(result: PeriodResult, security_class: SecurityClass | None, value, balance_cents: int) -> dict:
    original = (security_class.original_face_cents if security_class
                else result.period_closed.pool_original_cents)
    return {"trust": result.trust.code, "class": security_class.name if security_class else POOL_ROW,
            "period": result.period, "payment_date": result.payment_date, "factor": factor_text(value),
            "balance_cents": balance_cents, "original_face_cents": original}
