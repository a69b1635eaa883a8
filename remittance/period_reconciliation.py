"""The reconciliation `verify_ledger` runs for every closed period of every trust.

For each period: cash in (collections + advances - recoveries - returned
payments recovered from earlier periods + those carried to the next) equals the
servicer's fee + the issuer's spread + paid to holders + excess + retained,
to the cent; the holders' payments add up to what the period says it paid;
the collections it closed on are still what its window of the log holds;
and every class's distribution accounts are back at zero.
"""
from __future__ import annotations

from django.db.models import Sum

from ledger.models import Posting
from remittance.domain.trust_calendar import Period
from remittance.events import PeriodClosed
from remittance.selectors.period_facts import AMOUNTS, Window, removal_proceeds, window_sums
from remittance.models import Distribution, PeriodResult, PeriodStatus, TrustPeriod
from remittance.domain.reconciliation import closed_period_reconciliation


def closed_periods_reconcile() -> list[str]:
    paid = {(t, p): total for t, p, total in Distribution.objects.values("security_class__trust__code", "period")
            .annotate(total=Sum("interest_cents") + Sum("principal_cents"))
            .values_list("security_class__trust__code", "period", "total")}
    problems = []
    results = list(PeriodResult.objects.select_related("trust").order_by("trust__code", "period"))
    # Which periods are closed, read once: a window starts after the previous close's period, if there was one.
    closed = {(r.trust_id, r.period) for r in results}
    for result in results:
        problems += [f"{result.trust.code} {result.period}: {p}" for p in _period_problems(result, paid, closed)]
    problems += _status_problems()
    problems += _class_accounts_not_cleared()
    return problems


def _period_problems(result: PeriodResult, paid: dict, closed_periods: set[tuple[int, str]]) -> list[str]:
    closed = result.period_closed
    # Both sides of the identity, on the figures the period closed on (remittance.domain.reconciliation).
    problems = list(closed_period_reconciliation(closed).problems)
    if paid.get((result.trust.code, result.period), 0) != closed.paid_to_holders_cents:
        problems.append(f"holders' payments add up to {paid.get((result.trust.code, result.period), 0)}, "
                        f"not the {closed.paid_to_holders_cents} the period paid")
    recomputed = _collected_again(result, closed, closed_periods)
    if recomputed != closed.collected:
        problems.append(f"its window of the log now holds {recomputed}, not the {closed.collected} it closed on")
    return problems


def _collected_again(result: PeriodResult, closed: PeriodClosed, closed_periods: set[tuple[int, str]]) -> dict[str, int]:
    period = Period.parse(result.period)
    previous = (result.trust_id, str(period.previous())) in closed_periods
    window = Window(period.last_day, result.through_position,
                    period.previous().last_day if previous else result.trust.cutoff_date,
                    closed.window.after_position)
    totals = {k.removesuffix("_cents"): 0 for k in AMOUNTS}
    for amounts in window_sums(result.trust, window).values():
        for k in AMOUNTS:
            totals[k.removesuffix("_cents")] += amounts[k]
    totals["repurchase_interest"] = totals["repurchase_principal"] = 0
    for amounts in removal_proceeds(result.trust, window).values():
        totals["repurchase_interest"] += amounts["repurchase_interest_cents"]
        totals["repurchase_principal"] += amounts["repurchase_principal_cents"]
    return totals


def _status_problems() -> list[str]:
    closed = set(TrustPeriod.objects.filter(status=PeriodStatus.CLOSED).values_list("trust__code", "period"))
    results = set(PeriodResult.objects.values_list("trust__code", "period"))
    return ([f"{t} {p}: marked closed but no PeriodClosed event" for t, p in sorted(closed - results)]
            + [f"{t} {p}: closed in the log but not marked closed" for t, p in sorted(results - closed)])


def _class_accounts_not_cleared() -> list[str]:
    rows = (Posting.objects.filter(account__startswith="class:").values("account")
            .annotate(total=Sum("amount_cents")).exclude(total=0).values_list("account", "total"))
    return [f"{account}: {total} cents paid to the class but not to its holders" for account, total in rows]
