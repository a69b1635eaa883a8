"""Projections under a grid of PSA speeds, and realized speeds, over the API.

The figures are analytics' own: each scenario equals what the analytics
service (the project_cashflows command's path: parse_request, then
project_request, written by render.as_json) gives for the same trust and
scenario. Scoping is that of every endpoint under a trust: a deal the
investor does not hold answers 404, whatever the query.
"""
import pytest

from analytics.domain.render import as_json
from analytics.domain.scenarios import parse_request
from analytics.selectors import realized_speed_history
from analytics.services import project_request
from api.serializers.analytics import MAX_SPEEDS
from remittance.domain.trust_calendar import Period
from tests.api.conftest import SECOND_TRUST, login
from tests.integration.remittance.months import INSTALLMENT_CENTS, SEED_LOANS, close, pay, pay_everyone, seed_trust
from tests.integration.trusts.deals import TRUST

pytestmark = pytest.mark.django_db

MEASURES = ("wal_years", "final_period", "yield", "price", "modified_duration", "convexity")
SEQUENTIAL = [
    {"name": "A1", "face": "200000.00", "coupon": "3", "principal": "sequential", "priority": 1},
    {"name": "A2", "face": "300000.00", "coupon": "3.5", "principal": "sequential", "priority": 2},
    {"name": "M", "face": "300000.00", "coupon": "4", "principal": "sequential", "priority": 3},
    {"name": "B", "face": "200000.00", "coupon": "4.5", "principal": "sequential", "priority": 4},
]


def projections(client, code: str = TRUST, **params):
    return client.get(f"/api/v1/trusts/{code}/projections/", params)


def grid(client, code: str = TRUST, **params) -> dict:
    response = projections(client, code, **params)
    assert response.status_code == 200, response.content
    return response.json()


def service(code: str, psa: str, **options) -> dict:
    """What the analytics service gives for the trust under one speed, in the command's JSON shape."""
    return as_json(project_request(parse_request({"trust": code, "psa": psa, **options})))


def assert_same_figures(scenario: dict, expected: dict):
    assert scenario["collateral_wal_years"] == expected["collateral"]["wal_years"]
    assert [c["class"] for c in scenario["classes"]] == list(expected["classes"])
    for cls in scenario["classes"]:
        reference = expected["classes"][cls["class"]]
        assert {m: cls[m] for m in MEASURES} == {m: reference[m] for m in MEASURES}
        assert cls["balances"] == [{"period": p["period"], "balance_end": p["balance_end"]}
                                   for p in reference["periods"]]


def wal(value: str) -> float:
    return float(value)


# ---------------------------------------------------------------- the grid


def test_a_grid_of_three_speeds_gives_three_scenarios_faster_speeds_shorter_lives(alice):
    body = grid(alice, psa="100,200,300")
    assert body["trust"] == TRUST and body["first_period"] == "2026-03"  # February is closed
    assert [s["psa"] for s in body["scenarios"]] == ["100", "200", "300"]
    collateral = [wal(s["collateral_wal_years"]) for s in body["scenarios"]]
    class_a = [wal(s["classes"][0]["wal_years"]) for s in body["scenarios"]]
    assert collateral[0] > collateral[1] > collateral[2] > 0
    assert class_a[0] > class_a[1] > class_a[2] > 0
    for scenario in body["scenarios"]:
        (cls,) = scenario["classes"]
        path = cls["balances"]
        assert cls["class"] == "A" and path[0]["period"] == 1 and path[-1]["balance_end"] == "0.00"
        assert [p["period"] for p in path] == list(range(1, len(path) + 1))
        assert cls["price"] == "100.0000"  # priced at par unless asked otherwise
    # Faster speeds pay off sooner, so the paths are shorter.
    assert [s["classes"][0]["final_period"] for s in body["scenarios"]] == sorted(
        (s["classes"][0]["final_period"] for s in body["scenarios"]), reverse=True)


def test_each_scenario_is_what_the_analytics_service_gives(alice):
    params = {"cdr": "2", "severity": "35", "lag": "6", "delay_days": "24", "yield": "5.5"}
    body = grid(alice, psa="75,250", **params)
    options = {"cdr": "2", "severity": "35", "lag": "6", "delay_days": "24", "yield_percent": "5.5"}
    for scenario in body["scenarios"]:
        assert_same_figures(scenario, service(TRUST, scenario["psa"], **options))
    assert body["scenarios"][0]["classes"][0]["yield"] == "5.50000"


def test_a_price_and_no_defaults_are_the_services_too(alice):
    body = grid(alice, psa="150", price="101.5")
    assert_same_figures(body["scenarios"][0], service(TRUST, "150", price="101.5"))
    assert body["scenarios"][0]["classes"][0]["price"] == "101.5000"


def test_no_query_projects_one_modest_scenario(alice):
    body = grid(alice)
    assert [s["psa"] for s in body["scenarios"]] == ["100"]
    assert_same_figures(body["scenarios"][0], service(TRUST, "100"))


def test_a_class_no_yield_brings_to_par_has_no_measures_but_the_grid_stands(alice):
    # Every loan defaults at once and is lost: what is paid is far below par at any yield.
    options = {"cdr": "100", "severity": "100", "lag": "0"}
    body = grid(alice, psa="100,200", **options)
    for scenario in body["scenarios"]:
        (cls,) = scenario["classes"]
        assert cls["yield"] is None and cls["price"] is None and cls["modified_duration"] is None
        assert_same_figures(scenario, service(TRUST, scenario["psa"], **options))
    # A price asked for that no yield reaches is the caller's to change.
    fields = projections(alice, price="100", **options).json()["error"]["fields"]
    assert list(fields) == ["price"] and "cannot be priced" in fields["price"][0]


def test_sequential_classes_in_priority_order_each_its_own_life(loans):
    holders = [{"code": "INV-01", "name": "Investor 1", "class": "B", "face": "100000.00"}]
    seed_trust(classes=SEQUENTIAL, holders=holders)
    alice = login("alice", holder="INV-01")
    body = grid(alice, psa="100,400")
    for scenario in body["scenarios"]:
        assert [c["class"] for c in scenario["classes"]] == ["A1", "A2", "M", "B"]
        lives = [wal(c["wal_years"]) for c in scenario["classes"]]
        assert lives == sorted(lives) and len(set(lives)) == 4
        assert_same_figures(scenario, service(TRUST, scenario["psa"]))
    assert body["first_period"] == "2026-02"  # nothing closed yet: the trust's first period


def test_ten_speeds_is_the_most_a_request_may_ask(alice):
    speeds = ",".join(str(50 * k) for k in range(MAX_SPEEDS))
    assert len(grid(alice, psa=speeds)["scenarios"]) == MAX_SPEEDS


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize("params, fields", [
    ({"psa": "-100"}, ["psa"]),
    ({"psa": "fast"}, ["psa"]),
    ({"psa": "100,,200"}, ["psa"]),
    ({"psa": "5001"}, ["psa"]),
    ({"psa": "NaN"}, ["psa"]),
    ({"psa": ",".join(["100"] * (MAX_SPEEDS + 1))}, ["psa"]),
    ({"cdr": "2", "severity": "150", "lag": "6"}, ["severity"]),
    ({"cdr": "2", "severity": "-1", "lag": "6"}, ["severity"]),
    ({"cdr": "-2", "severity": "30", "lag": "6"}, ["cdr"]),
    ({"cdr": "101", "severity": "30", "lag": "6"}, ["cdr"]),
    ({"cdr": "2"}, ["cdr"]),
    ({"severity": "30"}, ["severity"]),
    ({"cdr": "2", "sda": "100", "severity": "30", "lag": "6"}, ["cdr", "sda"]),
    ({"sda": "100", "severity": "30", "lag": "six"}, ["lag"]),
    ({"sda": "100", "severity": "30", "lag": "6", "advance": "perhaps"}, ["advance"]),
    ({"price": "100", "yield": "5"}, ["price", "yield"]),
    ({"price": "0"}, ["price"]),
    ({"price": "0.0001"}, ["price"]),  # no yield in the measures' range reaches it
    ({"yield": "-100"}, ["yield"]),
    ({"yield": "1e400"}, ["yield"]),
    ({"delay_days": "400"}, ["delay_days"]),
    ({"delay_days": "1.5"}, ["delay_days"]),
])
def test_bad_scenario_input_is_a_400_naming_the_parameter(alice, params, fields):
    response = projections(alice, **params)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid" and sorted(error["fields"]) == sorted(fields), error
    assert all(isinstance(m, str) and "--" not in m for f in fields for m in error["fields"][f])


def test_the_messages_are_the_scenario_rules_own(alice):
    fields = projections(alice, cdr="2", severity="150", lag="6").json()["error"]["fields"]
    assert fields == {"severity": ["severity 150: a loss severity is between 0 and 100 percent"]}
    fields = projections(alice, psa="100,-5").json()["error"]["fields"]
    assert fields == {"psa": ["psa -5: speeds cannot be negative"]}


# ----------------------------------------------------------------- scoping


@pytest.mark.parametrize("endpoint", ["projections", "speeds"])
def test_a_deal_not_held_is_not_found_and_operations_see_every_deal(alice, bob, olivia, endpoint):
    url = f"/api/v1/trusts/{{}}/{endpoint}/"
    for code in (SECOND_TRUST, "NO-SUCH-TRUST"):
        response = alice.get(url.format(code))
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert alice.get(url.format(SECOND_TRUST), {"psa": "-1"}).status_code == 404  # not yours before not valid
    assert bob.get(url.format(SECOND_TRUST)).status_code == 200
    assert olivia.get(url.format(SECOND_TRUST)).status_code == 200


def test_a_login_without_a_role_and_anonymous_callers_see_nothing(deals, nora, anonymous):
    assert nora.get(f"/api/v1/trusts/{TRUST}/projections/").status_code == 404
    assert nora.get(f"/api/v1/trusts/{TRUST}/speeds/").status_code == 404
    assert anonymous.get(f"/api/v1/trusts/{TRUST}/projections/").status_code == 401
    assert anonymous.get(f"/api/v1/trusts/{TRUST}/speeds/").status_code == 401


# ---------------------------------------------------------- realized speeds


def speeds(client, code: str = TRUST, **params) -> dict:
    response = client.get(f"/api/v1/trusts/{code}/speeds/", params)
    assert response.status_code == 200, response.content
    return response.json()


def as_api(realized) -> dict:
    psa = realized.speeds.psa
    return {"period": realized.period, "smm": f"{realized.speeds.smm:.6f}", "cpr": f"{realized.speeds.cpr:.6f}",
            "psa": None if psa is None else f"{psa:.6f}", "loan_month": realized.loan_month,
            "balance_begin": f"{realized.balance_begin_cents / 100:.2f}",
            "scheduled_end": f"{realized.balance_end_scheduled_cents / 100:.2f}",
            "actual_end": f"{realized.balance_end_actual_cents / 100:.2f}",
            "voluntary": f"{realized.activity.voluntary_cents / 100:.2f}",
            "defaulted": f"{realized.activity.defaulted_cents / 100:.2f}",
            "loss": f"{realized.activity.loss_cents / 100:.2f}",
            "voluntary_smm": f"{realized.split.smm:.6f}", "voluntary_cpr": f"{realized.split.cpr:.6f}",
            "voluntary_psa": None if realized.split.psa is None else f"{realized.split.psa:.6f}",
            "mdr": f"{realized.split.mdr:.6f}", "cdr": f"{realized.split.cdr:.6f}",
            "severity": None if realized.split.severity is None else f"{realized.split.severity:.6f}"}


def without_windows(entry: dict) -> dict:
    return {k: v for k, v in entry.items() if k != "windows"}


def test_realized_speeds_of_every_closed_period(alice):
    # February (the fixture's close): everyone paid the installment, nothing prepaid.
    # March: L001 also curtails $10,000.
    pay(SEED_LOANS[0], Period.parse("2026-03"), INSTALLMENT_CENTS + 1_000_000)
    pay_everyone("2026-03", loans=SEED_LOANS[1:])
    close("2026-03")
    body = speeds(alice)
    assert body["count"] == 2
    assert [without_windows(r) for r in body["results"]] == [as_api(r) for r in realized_speed_history(TRUST)]
    february, march = body["results"]
    # Each period's windows look back over the closed periods up to it: March's 3-month window is not stated.
    assert february["windows"]["1m"]["voluntary_smm"] == february["voluntary_smm"]
    assert march["windows"]["1m"]["voluntary_cpr"] == march["voluntary_cpr"] == march["cpr"]  # no default
    assert march["windows"]["3m"] == dict.fromkeys(march["windows"]["1m"])
    assert float(march["windows"]["life"]["voluntary_smm"]) == pytest.approx(
        100 * (1 - (1 - float(march["voluntary_smm"]) / 100) ** 0.5), abs=1e-6)
    assert february["period"] == "2026-02" and float(february["smm"]) == pytest.approx(0, abs=1e-6)
    assert february["balance_begin"] == "1000000.00" and february["loan_month"] == 1
    assert march["period"] == "2026-03" and float(march["smm"]) > 0.9 and march["loan_month"] == 2
    assert float(march["cpr"]) > float(march["smm"]) and float(march["psa"]) > 100
    # A page at a time, like every list.
    paged = speeds(alice, page_size=1, page=2)
    assert paged["count"] == 2 and paged["results"] == [march] and paged["previous"]


def test_a_trust_with_no_closed_period_has_no_speeds_yet(loans):
    seed_trust()
    assert speeds(login("olivia-2", operations=True))["results"] == []
