"""The month-end close in the admin: periods and their status, results, class factors, payments,
the remittance report page of a closed period, and the operations dashboard on the admin's index.

All of it is the close's own record or a projection of its events, so it is
read-only here; closing a period runs through the closing service (command,
task or, later, an admin action), never by editing a row. The figures come
from selectors (`remittance.selectors.reports`, `remittance.selectors.report_page`,
`remittance.selectors.dashboard`), the report's downloads from its renderers
(`remittance.domain.report_formats`); the views here only fetch and render them.

`operations_admin_urls(site)` is what config/urls.py mounts at /admin/: the
site's own URLs, with the dashboard as the index and the report page at
remittance/report/<trust>/<period>/, all in the `admin` namespace.
"""
from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from ledger import business_time
from ledger.admin import ReadOnlyAdmin, money_column
from ledger.domain.money import dollars_grouped
from remittance import admin_statement
from remittance import admin_trust_pages  # noqa: F401  (the close's figures on the trusts pages)
from remittance.selectors import dashboard
from remittance.domain.trust_calendar import Period
from remittance.domain.charts import Series, line_chart
from remittance.models import ClassPeriod, Distribution, PeriodResult, PeriodStatus, TrustPeriod
from remittance.selectors.month_end_schedule import month_end_schedule
from remittance.selectors.report_page import balance_history, holder_payments, reconciliation_lines, unavailable_reason
from remittance.domain.report_formats import json_text, loan_level_csv, report_csv
from remittance.selectors.loan_level import loan_level_file, loan_level_rows
from remittance.selectors.reports import ReportUnavailable, remittance_report
from servicing.models import CLOSED_STATUSES, LoanStatus
from trusts.models import Trust

CHART_ID = "balance-chart"
DOWNLOADS = {"csv": (report_csv, "text/csv"), "json": (json_text, "application/json")}
LOAN_LEVEL = "loan-level"  # ?format= of the report page's loan-level download


def report_url(trust_code: str, period: str) -> str:
    return reverse("admin:remittance_report", args=[trust_code, period])


def _report_link(trust_code: str, period: str):
    return format_html('<a href="{}">report</a>', report_url(trust_code, period))


@admin.register(TrustPeriod)
class TrustPeriodAdmin(ReadOnlyAdmin):
    list_display = ("trust", "period", "status", "report", "record_date", "payment_date", "attempts", "closed_at",
                    "last_error")
    list_filter = ("status", "trust")
    search_fields = ("trust__code", "period")
    list_select_related = ("trust",)

    @admin.display(description="report")
    def report(self, row):
        return _report_link(row.trust.code, row.period) if row.status == PeriodStatus.CLOSED else "—"


@admin.register(PeriodResult)
class PeriodResultAdmin(ReadOnlyAdmin):
    list_display = ("trust", "period", "status", "report", "payment_date", "interest", "principal", "fee", "spread",
                    "to_holders", "excess", "loss", "prior_period", "pool_factor")
    list_filter = ("trust",)
    search_fields = ("trust__code", "period")
    list_select_related = ("trust",)
    interest = money_column("interest_collected_cents", "interest")
    principal = money_column("principal_collected_cents", "principal")
    fee = money_column("servicing_fee_cents", "servicing fee")
    spread = money_column("issuer_spread_cents", "issuer spread")
    to_holders = money_column("paid_to_holders_cents", "paid to holders")
    excess = money_column("excess_cents", "excess")
    loss = money_column("realized_loss_cents", "loss")
    prior_period = money_column("prior_period_cents", "prior-period items")

    def get_queryset(self, request):
        # The period's status from its TrustPeriod row, in the same query as the list.
        status = TrustPeriod.objects.filter(trust=OuterRef("trust"), period=OuterRef("period")).values("status")[:1]
        return super().get_queryset(request).annotate(period_status=Subquery(status))

    @admin.display(description="status", ordering="period_status")
    def status(self, row):
        return row.period_status or "—"

    @admin.display(description="report")
    def report(self, row):
        return _report_link(row.trust.code, row.period)

    def report_urls(self) -> list:
        """The report page's URL, mounted by operations_admin_urls at remittance/report/<trust>/<period>/."""
        return [path("remittance/report/<str:trust_code>/<str:period>/", self.admin_site.admin_view(self.report_view),
                     name="remittance_report"),
                path("remittance/statement/<str:trust_code>/<str:period>/",
                     self.admin_site.admin_view(self.statement_view), name="remittance_statement")]

    def statement_view(self, request, trust_code: str, period: str):
        """One closed period's distribution statement to certificateholders; ?format=csv|json|pdf downloads it."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        return admin_statement.statement_page(self, request, trust_code, period)

    def report_view(self, request, trust_code: str, period: str):
        """One closed period's report: figures, reconciliation, balance chart; ?format=csv|json downloads it."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            report = _closed_report(trust_code, period)
        except ReportUnavailable as error:
            context = {**self.admin_site.each_context(request), "title": "Remittance report unavailable",
                       "message": str(error), "opts": self.opts}
            return TemplateResponse(request, "admin/remittance/report_unavailable.html", context, status=404)
        if request.GET.get("format") == "pdf":  # the report's PDF is the statement's: a superset of its figures
            return admin_statement.download(admin_statement.closed_statement(trust_code, period), "pdf")
        if request.GET.get("format") in DOWNLOADS:
            return _download(report, request.GET["format"])
        if request.GET.get("format") == LOAN_LEVEL:
            if not request.user.has_perm("servicing.view_loan"):  # loan by loan: the loans' own permission
                raise PermissionDenied
            return _loan_level_download(report["header"]["trust"], report["header"]["period"])
        return TemplateResponse(request, "admin/remittance/report.html",
                                {**self.admin_site.each_context(request), **self._report_context(report)})

    def _report_context(self, report: dict) -> dict:
        h = report["header"]
        trust = Trust.objects.get(code=h["trust"])
        result = PeriodResult.objects.get(trust=trust, period=h["period"])
        labels, series = balance_history(trust, h["period"])
        chart = line_chart(labels, series, title=f"{trust.code}: pool and class balances at each period's end",
                           element_id=CHART_ID)
        url = report_url(trust.code, h["period"])
        return {
            "title": f"Remittance report {trust.code} {h['period']}", "opts": self.opts, "report": report,
            "trust": trust, "result": result,
            "trust_period": TrustPeriod.objects.filter(trust=trust, period=h["period"]).first(),
            "reconciliation": reconciliation_lines(report, trust, result),
            "payments": holder_payments(trust, h["period"]),
            "chart": mark_safe(chart),  # line_chart XML-escapes every text it draws # nosec B308 B703
            "chart_periods": labels,
            "csv_url": f"{url}?format=csv", "json_url": f"{url}?format=json", "pdf_url": f"{url}?format=pdf",
            "statement_url": admin_statement.statement_url(trust.code, h["period"]),
            "previous_url": report_url(trust.code, labels[-2]) if len(labels) > 1 else None,
            "next_url": _next_report_url(trust, h["period"]),
            "payments_url": _changelist(Distribution, security_class__trust__id__exact=trust.pk, period=h["period"]),
            "result_url": reverse("admin:remittance_periodresult_change", args=[result.pk]),
        }


def _closed_report(trust_code: str, period: str) -> dict:
    """The period's report, or ReportUnavailable saying in words why there is none."""
    reason = unavailable_reason(trust_code, period)
    if reason is not None:
        raise ReportUnavailable(reason)
    return remittance_report(trust_code, period)


def _next_report_url(trust: Trust, period: str) -> str | None:
    following = str(Period.parse(period).next())
    return report_url(trust.code, following) if PeriodResult.objects.filter(
        trust=trust, period=following).exists() else None


def _download(report: dict, fmt: str) -> HttpResponse:
    render, content_type = DOWNLOADS[fmt]
    response = HttpResponse(render(report), content_type=f"{content_type}; charset=utf-8")
    name = f"remittance-{report['header']['trust']}-{report['header']['period']}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _loan_level_download(trust_code: str, period: str) -> HttpResponse:
    """The loan-level investor reporting file of the period, as CSV (remittance.selectors.loan_level)."""
    response = HttpResponse(loan_level_csv(loan_level_rows(loan_level_file(trust_code, period))),
                            content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="loan-level-{trust_code}-{period}.csv"'
    return response


def _changelist(model, **params) -> str:
    """An admin list page's URL, filtered by the query parameters given."""
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    return f"{url}?{urlencode(params)}" if params else url


@admin.register(ClassPeriod)
class ClassPeriodAdmin(ReadOnlyAdmin):
    list_display = ("security_class", "period", "interest_due", "interest_paid", "shortfall", "principal_paid",
                    "loss", "balance_end", "factor")
    list_filter = ("security_class__trust",)
    search_fields = ("security_class__trust__code", "security_class__name", "period")
    list_select_related = ("security_class__trust",)
    interest_due = money_column("interest_due_cents", "interest due")
    interest_paid = money_column("interest_paid_cents", "interest paid")
    shortfall = money_column("interest_shortfall_cents", "shortfall carried")
    principal_paid = money_column("principal_paid_cents", "principal paid")
    loss = money_column("loss_written_off_cents", "loss written off")
    balance_end = money_column("balance_end_cents", "balance")


@admin.register(Distribution)
class DistributionAdmin(ReadOnlyAdmin):
    list_display = ("holder", "security_class", "period", "payment_date", "face_held", "interest", "principal",
                    "total")
    list_filter = ("security_class__trust", "period")
    search_fields = ("holder__code", "holder__name", "security_class__trust__code")
    list_select_related = ("holder", "security_class__trust")
    face_held = money_column("face_held_cents", "face held")
    interest = money_column("interest_cents", "interest")
    principal = money_column("principal_cents", "principal")

    @admin.display(description="paid")
    def total(self, distribution):
        return dollars_grouped(distribution.total_cents)


# ------------------------------------------------------------------ the operations dashboard (admin index)

OPEN_LOAN_STATUSES = ",".join(s for s in LoanStatus.values if s not in CLOSED_STATUSES)


def dashboard_context(request) -> dict:
    """The dashboard's figures, each section only for a login allowed to see the list behind it."""
    today = business_time.today()
    asked = request.GET.get("month")
    month = _month(asked, today)
    user, context = request.user, {"today": today, "month": month}
    if asked and str(month) != asked.strip():
        context["month_refused"] = asked[:20]  # shown back, so the page says what it did instead
    if user.has_perm("servicing.view_loan"):
        context.update(buckets=_bucket_rows(), default_states=_state_rows(),
                       collections=dashboard.collections_against_scheduled(month),
                       trend_charts=_trend_charts(dashboard.monthly_trends(month)),
                       exceptions=dashboard.exceptions(), loan_events_url=_loan_events_url(month),
                       suspense_url=_accounts_url(account__endswith=":suspense", balance_cents__lt=0),
                       escrow_url=_accounts_url(account__endswith=":escrow_advance", balance_cents__gt=0))
    if user.has_perm("remittance.view_trustperiod"):
        context.update(periods=dashboard.trust_periods(today), periods_url=_changelist(TrustPeriod),
                       advances=dashboard.servicer_advances(),
                       advances_url=_accounts_url(account__startswith=dashboard.SERVICER_ADVANCES))
    if user.has_perm("django_celery_beat.view_periodictask"):
        context.update(schedule=month_end_schedule(),
                       schedules_url=reverse("admin:django_celery_beat_periodictask_changelist"))
    return {"dashboard": context}


def _trend_charts(trends: dashboard.Trends) -> list:
    """The dashboard's two trend charts as inline SVG: collections by kind, and delinquent principal by bucket."""
    labels = [str(p) for p in trends.periods]
    collected = [Series(kind, values) for kind, values in trends.collected.items()]
    delinquent = [Series(f"{bucket} days", values) for bucket, values in trends.delinquent.items()]
    return [mark_safe(chart) for chart in (  # line_chart XML-escapes every text it draws # nosec B308 B703
        line_chart(labels, collected, title="Collections by month", element_id="trend-collections"),
        line_chart(labels, delinquent, title="Delinquent unpaid principal at each month's end",
                   element_id="trend-delinquency"))]


def _month(text: str | None, today) -> Period:
    """The month asked for (?month=YYYY-MM) if the dashboard can show it, else the current one.

    The page links the months before and after: 0001-01 and 9999-12 have no
    neighbour on one side, so they are not shown either (rather than a 500).
    """
    try:
        month = Period.parse(text) if text else Period.containing(today)
        month.previous(), month.next()
        return month
    except ValueError:
        return Period.containing(today)


def _bucket_rows() -> list[dict]:
    return [{"bucket": b, "url": _loans_url(position__delinquency_bucket__exact=b.bucket,
                                            position__status__in=OPEN_LOAN_STATUSES)}
            for b in dashboard.delinquency_buckets()]


def _state_rows() -> list[dict]:
    return [{"row": r, "url": _loans_url(default_state=r.state.name)} for r in dashboard.default_servicing_states()]


def _loans_url(**params) -> str:
    return f"{reverse('admin:servicing_loan_changelist')}?{urlencode(params)}"


def _accounts_url(**params) -> str:
    return f"{reverse('admin:ledger_accountbalance_changelist')}?{urlencode(params)}"


def _loan_events_url(month: Period) -> str:
    return (f"{reverse('admin:ledger_event_changelist')}?"
            + urlencode({"stream__startswith": "loan:", "effective_date__gte": month.first_day.isoformat(),
                         "effective_date__lte": month.last_day.isoformat()}))


def operations_admin_urls(site: admin.AdminSite = admin.site, extra: Sequence = ()):
    """The admin's URLs for config/urls.py: the site's own, the dashboard as its index, the report page, and
    `extra` pages of apps without models (mounted before the site's catch-all URLs)."""
    def index(request, extra_context=None):
        return site.index(request, extra_context={**dashboard_context(request), **(extra_context or {})})

    patterns = [path("", site.admin_view(index), name="index"), *site.get_model_admin(PeriodResult).report_urls(),
                *extra, *site.get_urls()]
    return patterns, "admin", site.name
