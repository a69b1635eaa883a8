"""What the close adds to the trusts admin's pages, from remittance's side (imported by remittance.admin).

Trusts never imports remittance, so its pages show the close's figures through
trusts.admin.extensions: the class balances, factors and periods of the latest
close on the class list and the trust's page, each trust's last closed period
on the trust list, a trust's periods and a holder's payments as panels of
their pages (HTML in templates/admin/remittance/panels/).
"""
from __future__ import annotations

from ledger.admin import money
from remittance.selectors.latest_close import with_last_closed_period, with_latest_close
from remittance.models import Distribution, PeriodResult, PeriodStatus, TrustPeriod
from trusts.admin import Panel, extensions
from trusts.domain.factors import factor_text

PERIOD_ROWS = 24
PAYMENT_ROWS = 24


def trust_periods(trust) -> dict:
    periods = list(TrustPeriod.objects.filter(trust=trust).order_by("-period")[:PERIOD_ROWS])
    factors = dict(PeriodResult.objects.filter(trust=trust, period__in=[p.period for p in periods])
                   .values_list("period", "pool_factor"))
    rows = [{"p": p, "paid": p.status == PeriodStatus.CLOSED,
             "factor": factor_text(factors[p.period]) if p.period in factors else "—"} for p in periods]
    return {"trust": trust, "rows": rows}


def holder_payments(holder) -> dict:
    payments = (Distribution.objects.filter(holder=holder).select_related("security_class__trust")
                .order_by("-period", "security_class__trust__code", "security_class__priority"))
    rows = [{"d": d, "face_held": money(d.face_held_cents), "interest": money(d.interest_cents),
             "principal": money(d.principal_cents), "total": money(d.total_cents)} for d in payments[:PAYMENT_ROWS]]
    return {"holder": holder, "rows": rows, "count": payments.count()}


extensions.class_figures = with_latest_close
extensions.trust_figures = with_last_closed_period
extensions.trust_panels["remittance.periods"] = Panel(
    "Periods", "admin/remittance/panels/trust_periods.html", trust_periods)
extensions.holder_panels["remittance.payments"] = Panel(
    "Payments", "admin/remittance/panels/holder_payments.html", holder_payments)
