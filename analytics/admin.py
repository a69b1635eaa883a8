"""The scenarios page in the admin: a trust's classes projected under several PSA speeds at once.

/admin/analytics/scenarios/?trust=CODE&psa=100,200,300 (optionally &cdr=&severity=&lag=) shows, for
each speed and class, the measures the engine gives (WAL, final period, yield and price at par, modified
duration, convexity; analytics.domain.render writes them as the command and the API do), and one chart per
class with a line per speed: the class balance at the end of each projected period, starting from the
balance the last close left. The trust is read once (analytics.selectors.trust_deal) and projected by
analytics.domain.deal_projection.project per speed, as the API's projection grid does.

The query is checked by analytics.domain.scenarios' own parsers, the rules of the project_cashflows command and
of the API: `psa` is split at commas into one scenario per speed, each read by parse_prepayment; the
default options by parse_defaults. A refusal is shown as a form error on the field it names. The page
bounds its work as the API does (analytics.domain.scenarios.parse_psa_grid).

The analytics app has no models, so the page is not a ModelAdmin's: `analytics_admin_urls(site)` gives
its URL, which config/urls.py hands to remittance.admin.operations_admin_urls (name
`admin:analytics_scenarios`). Staff only (the admin site's login), with view permission on trusts.
"""
from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode
from dataclasses import dataclass

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.safestring import mark_safe

from analytics.domain.defaults import DefaultScenario
from analytics.domain.measures import MeasureError
from analytics.domain.prepayment import PrepaymentScenario
from analytics.domain.deal_projection import DealProjection, project
from analytics.domain.render import measure_fields
from analytics.domain.scenarios import (
    MAX_GRID_SPEEDS,
    ScenarioError,
    parse_defaults,
    parse_psa_grid,
    refusal_text,
    refused_options,
)
from analytics.selectors import trust_deal
from remittance.domain.trust_calendar import Period
from remittance.domain.charts import Series, line_chart
from trusts import admin as trusts_admin
from trusts.models import Trust

DEFAULT_SPEEDS = "100,200,300"
CHART_ID = "scenario-chart"
WAL_PLACES = 5  # as analytics.domain.render writes every WAL
DEFAULT_FIELDS = ("cdr", "severity", "lag")


class ScenarioForm(forms.Form):
    """The page's query: a trust, PSA speeds (one scenario each), and optionally a default scenario."""

    trust = forms.ChoiceField(choices=())
    psa = forms.CharField(initial=DEFAULT_SPEEDS, label="PSA speeds",
                          help_text=f"comma-separated, one scenario each (at most {MAX_GRID_SPEEDS})")
    cdr = forms.CharField(required=False, label="CDR (%)", help_text="annual default rate; needs severity and lag")
    severity = forms.CharField(required=False, label="Loss severity (%)")
    lag = forms.CharField(required=False, label="Liquidation lag (months)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["trust"].choices = [(code, f"{code} {name}") for code, name in
                                        Trust.objects.order_by("code").values_list("code", "name")]

    def clean(self):
        data = super().clean()
        if "psa" in data:
            data["speeds"], data["prepayments"] = self._prepayments(data["psa"])
        options = {name: data.get(name) or None for name in DEFAULT_FIELDS}
        try:
            data["defaults"] = parse_defaults(options)
        except ScenarioError as error:
            self._refused(error, options)
        return data

    def _prepayments(self, text: str) -> tuple[tuple[str, ...], tuple[PrepaymentScenario, ...]]:
        try:
            scenarios = parse_psa_grid(text)
        except ScenarioError as error:
            self.add_error("psa", refusal_text(error))
            return (), ()
        return tuple(part.strip() for part in text.split(",")), scenarios

    def _refused(self, error: ScenarioError, options: dict) -> None:
        """The refusal on the fields it names (those given first), else on the form."""
        named = [f for f in DEFAULT_FIELDS if f in refused_options(error)]
        given = [f for f in named if options.get(f)]
        for field in given or named or [None]:
            self.add_error(field, refusal_text(error))


@dataclass(frozen=True, slots=True)
class MeasureRow:
    """One scenario's measures of one class, as analytics.domain.render writes them."""

    speed: str
    class_name: str
    measures: dict


def scenario_results(code: str, speeds: Sequence[str], prepayments: Sequence[PrepaymentScenario],
                     defaults: DefaultScenario) -> dict:
    """The trust projected under every speed: the measures per scenario and class, and one chart per class."""
    deal, first = trust_deal(code)
    projections = [project(deal, prepayment, defaults) for prepayment in prepayments]
    names = [c.name for c in deal.structure.classes]
    rows = [MeasureRow(speed, name, measure_fields(p.classes[name]))
            for speed, p in zip(speeds, projections) for name in names]
    wals = [(speed, None if p.collateral_wal_years is None else f"{p.collateral_wal_years:.{WAL_PLACES}f}")
            for speed, p in zip(speeds, projections)]
    starts = {c.name: c.balance_cents for c in deal.structure.classes}
    labels = _labels(first, max((len(p.months) for p in projections), default=0))
    charts = [(name, mark_safe(line_chart(  # line_chart XML-escapes every text it draws # nosec B308 B703
        labels, [Series(f"{speed} PSA", _balances(p, name, starts[name], len(labels)))
                 for speed, p in zip(speeds, projections)],
        title=f"{code} class {name}: balance at each period's end", element_id=f"{CHART_ID}-{k}")))
        for k, name in enumerate(names, start=1)]
    return {"first_period": first, "rows": rows, "collateral_wals": wals, "charts": charts}


def _labels(first: Period, months: int) -> list[str]:
    """The last closed period (where the balances start), then each projected period."""
    labels, period = [str(first.previous())], first
    for _ in range(months):
        labels.append(str(period))
        period = period.next()
    return labels


def _balances(projection: DealProjection, name: str, start_cents: int, count: int) -> tuple[int, ...]:
    values = [start_cents] + [m.waterfall.for_class(name).balance_end_cents for m in projection.months]
    return tuple(values + [values[-1]] * (count - len(values)))  # a faster scenario ends sooner: it stays there


def scenarios_view(request, site: admin.AdminSite = admin.site):
    """The form, and once it is valid the measures table and the charts."""
    if not request.user.has_perm("trusts.view_trust"):
        raise PermissionDenied
    form = ScenarioForm(request.GET if "trust" in request.GET else None)
    context = {**site.each_context(request), "title": "Class balances under prepayment scenarios", "form": form,
               "max_scenarios": MAX_GRID_SPEEDS}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            context.update(results=scenario_results(data["trust"], data["speeds"], data["prepayments"],
                                                    data["defaults"]), trust=data["trust"])
        except MeasureError as error:
            form.add_error(None, f"the classes cannot be measured under this scenario: {error}")
    return TemplateResponse(request, "admin/analytics/scenarios.html", context)


def _scenarios_link(trust: Trust) -> tuple[str, str]:
    url = f"{reverse('admin:analytics_scenarios')}?{urlencode({'trust': trust.code})}"
    return "Class balances under PSA scenarios", url


# The trust page's classes link here (trusts.admin.extensions: trusts does not know analytics).
trusts_admin.extensions.class_links["analytics.domain.scenarios"] = _scenarios_link


def analytics_admin_urls(site: admin.AdminSite = admin.site) -> list:
    """The analytics pages' URLs, for remittance.admin.operations_admin_urls (the `admin` namespace)."""
    def view(request):
        return scenarios_view(request, site)

    return [path("analytics/scenarios/", site.admin_view(view), name="analytics_scenarios")]
