"""The distribution statement page of a closed period in the admin, and its downloads (CSV, JSON, PDF).

Mounted beside the remittance report page (PeriodResultAdmin.report_urls) at
remittance/statement/<trust>/<period>/. The figures are remittance.selectors.distribution_statement's,
the downloads the same renderers the API uses (report_formats for CSV and JSON, statement_pdf for the
PDF); the view only fetches and renders them.
"""
from __future__ import annotations

from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse

from remittance.domain.report_formats import json_text, report_csv
from remittance.selectors.distribution_statement import distribution_statement
from remittance.selectors.report_page import unavailable_reason
from remittance.selectors.reports import ReportUnavailable
from remittance.statement_pdf import statement_pdf

STATEMENT_DOWNLOADS = {"csv": (report_csv, "text/csv"), "json": (json_text, "application/json"),
                       "pdf": (statement_pdf, "application/pdf")}


def statement_url(trust_code: str, period: str) -> str:
    return reverse("admin:remittance_statement", args=[trust_code, period])


def closed_statement(trust_code: str, period: str) -> dict:
    """The period's statement, or ReportUnavailable saying in words why there is none."""
    reason = unavailable_reason(trust_code, period)
    if reason is not None:
        raise ReportUnavailable(reason)
    return distribution_statement(trust_code, period)


def download(statement: dict, fmt: str) -> HttpResponse:
    """The statement as a file: ?format=csv, json or pdf."""
    render, content_type = STATEMENT_DOWNLOADS[fmt]
    body = render(statement)
    charset = "" if isinstance(body, bytes) else "; charset=utf-8"
    response = HttpResponse(body, content_type=f"{content_type}{charset}")
    name = f"statement-{statement['header']['trust']}-{statement['header']['period']}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def statement_page(model_admin, request, trust_code: str, period: str):
    """The statement page (or a download of it), for PeriodResultAdmin's URL."""
    context = {**model_admin.admin_site.each_context(request), "opts": model_admin.opts}
    try:
        statement = closed_statement(trust_code, period)
    except ReportUnavailable as error:
        return TemplateResponse(request, "admin/remittance/report_unavailable.html",
                                {**context, "title": "Distribution statement unavailable", "message": str(error)},
                                status=404)
    if request.GET.get("format") in STATEMENT_DOWNLOADS:
        return download(statement, request.GET["format"])
    h = statement["header"]
    url = statement_url(h["trust"], h["period"])
    return TemplateResponse(request, "admin/remittance/statement.html", {
        **context, "title": f"Distribution statement {h['trust']} {h['period']}", "s": statement,
        "report_url": reverse("admin:remittance_report", args=[h["trust"], h["period"]]),
        **{f"{fmt}_url": f"{url}?format={fmt}" for fmt in STATEMENT_DOWNLOADS},
    })
