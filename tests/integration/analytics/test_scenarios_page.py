"""The scenarios page in the admin: a trust's classes under several PSA speeds, measured as the engine measures them."""
import re
import xml.etree.ElementTree as ET

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from analytics.domain.defaults import NO_DEFAULTS, default_scenario
from analytics.domain.prepayment import constant
from analytics.domain.deal_projection import project
from analytics.domain.render import measure_fields
from analytics.selectors import trust_deal
from tests.integration.remittance.months import close, pay_everyone, seed_trust
from tests.integration.trusts.deals import TRUST
from trusts.models import Trust

pytestmark = pytest.mark.django_db
SVG = "{http://www.w3.org/2000/svg}"
URL = "/admin/analytics/scenarios/"
CHART = 'id="scenario-chart-'  # an <svg> drawn by the page (the admin's own icons are <svg> too)
SEQUENTIAL = [
    {"name": "A1", "face": "600000.00", "coupon": "4", "principal": "sequential", "priority": 1,
     "denomination": "1000.00"},
    {"name": "A2", "face": "400000.00", "coupon": "4.5", "principal": "sequential", "priority": 2,
     "denomination": "1000.00"},
]
MEASURES = {"wal": "wal_years", "final": "final_period", "yield": "yield", "price": "price",
            "duration": "modified_duration", "convexity": "convexity"}


@pytest.fixture
def sequential(loans):
    """The seed's pool in two sequential classes, February 2026 closed."""
    seed_trust(classes=SEQUENTIAL, holders=[{"code": "INV-01", "name": "Investor 1", "class": "A1", "face": "100000.00"},
                                            {"code": "INV-02", "name": "Investor 2", "class": "A2", "face": "400000.00"}])
    pay_everyone("2026-02")
    close("2026-02")


def page(client, **query) -> str:
    response = client.get(URL, query)
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


def shown_measures(html: str, speed: str, name: str) -> dict:
    row = re.search(rf'<tr class="scenario-row" data-psa="{re.escape(speed)}" data-class="{name}">(.*?)</tr>',
                    html, re.DOTALL)
    assert row, f"no row for {speed} PSA class {name}"
    cells = dict(re.findall(r'<td class="num (\w+)">([^<]*)</td>', row.group(1)))
    return {field: cells[css] for css, field in MEASURES.items()}


def as_shown(measures: dict) -> dict:
    return {k: "—" if v is None else str(v) for k, v in measures.items()}


def test_the_url():
    assert reverse("admin:analytics_scenarios") == URL


def test_the_measures_are_the_projections(admin_client, sequential):
    html = page(admin_client, trust=TRUST, psa="100,200,300")
    deal, first = trust_deal(TRUST)
    assert str(first) == "2026-03" and "from 2026-03" in html
    for speed in ("100", "200", "300"):
        projection = project(deal, constant("psa", float(speed)))
        for name in ("A1", "A2"):
            assert shown_measures(html, speed, name) == as_shown(measure_fields(projection.classes[name]))
    # Faster prepayments shorten A1's life.
    wals = [float(shown_measures(html, s, "A1")["wal_years"]) for s in ("100", "200", "300")]
    assert wals == sorted(wals, reverse=True)


def test_a_default_scenario_is_projected_too(admin_client, sequential):
    html = page(admin_client, trust=TRUST, psa="150", cdr="2", severity="35", lag="6")
    deal, _ = trust_deal(TRUST)
    defaults = default_scenario("cdr", [2.0], severity=35.0, lag=6, advance=True)
    projection = project(deal, constant("psa", 150), defaults)
    assert shown_measures(html, "150", "A2") == as_shown(measure_fields(projection.classes["A2"]))
    assert shown_measures(html, "150", "A2") != as_shown(
        measure_fields(project(deal, constant("psa", 150), NO_DEFAULTS).classes["A2"]))


def test_one_chart_per_class_with_a_line_per_speed(admin_client, sequential):
    html = page(admin_client, trust=TRUST, psa="100,300")
    charts = re.findall(r'<svg xmlns="http://www.w3.org/2000/svg" id="scenario-chart-.*?</svg>', html, re.DOTALL)
    assert len(charts) == 2
    for chart, name in zip(charts, ("A1", "A2")):
        root = ET.fromstring(chart)
        assert f"class {name}" in root.find(f"{SVG}title").text
        lines = root.findall(f".//{SVG}polyline")
        assert [line.get("data-series") for line in lines] == ["100 PSA", "300 PSA"]
        # Every speed starts from the balance the last close left, and runs to zero.
        starts = {line.get("points").split()[0] for line in lines}
        ends = {line.get("points").split()[-1].split(",")[1] for line in lines}
        assert len(starts) == 1 and len(ends) == 1


def test_the_form_starts_empty_with_every_trust(admin_client, sequential):
    html = page(admin_client)
    assert CHART not in html and 'name="psa"' in html and 'value="100,200,300"' in html
    assert f'<option value="{TRUST}">' in html


@pytest.mark.parametrize(("query", "field", "message"), [
    ({"psa": "100,-50"}, "psa", "speeds cannot be negative"),
    ({"psa": "100,,200"}, "psa", "a speed is missing"),
    ({"psa": ",".join(["100"] * 11)}, "psa", "at most 10 speeds"),
    ({"psa": "100,5001"}, "psa", "at most 5000"),  # the grid bounds shared with the API
    ({"psa": "abc"}, "psa", "is not a number"),
    ({"psa": "100", "cdr": "2", "severity": "150", "lag": "6"}, "severity", "a loss severity is between 0 and 100"),
    ({"psa": "100", "cdr": "2"}, "cdr", "cdr needs severity and lag"),
    ({"psa": "100", "trust": "NOPE"}, "trust", "Select a valid choice"),
])
def test_bad_input_is_a_form_error(admin_client, sequential, query, field, message):
    html = page(admin_client, **{"trust": TRUST, **query})
    assert CHART not in html and 'class="scenario-row"' not in html
    errors = re.search(r'<div class="form-row errors">\s*<ul class="errorlist"[^>]*>(.*?)</ul>\s*<label for="id_(\w+)"',
                       html, re.DOTALL)
    assert errors and errors.group(2) == field
    assert message in errors.group(1)


def test_staff_need_view_permission_on_trusts(client, sequential):
    staff = User.objects.create_user("clerk", password="x", is_staff=True)
    client.force_login(staff)
    assert client.get(URL, {"trust": TRUST}).status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="view_trust"))
    assert client.get(URL, {"trust": TRUST, "psa": "100"}).status_code == 200


def test_a_user_who_is_not_staff_is_sent_to_log_in(client, sequential):
    client.force_login(User.objects.create_user("investor", password="x"))
    response = client.get(URL, {"trust": TRUST})
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
    anonymous = client.__class__().get(URL)
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]


def test_the_trust_page_and_the_dashboard_link_to_it(admin_client, sequential):
    trust = Trust.objects.get(code=TRUST)
    html = page_at(admin_client, reverse("admin:trusts_trust_change", args=[trust.pk]))
    assert f'href="{URL}?trust={TRUST}"' in html
    assert f'href="{URL}"' in page_at(admin_client, reverse("admin:index"))


def page_at(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()
