"""Periods a caller writes are checked, and a holding says which distribution its factor is from."""
import pytest

from tests.api.conftest import login
from tests.api.test_contract import assert_one_shape
from tests.integration.trusts.deals import TRUST

pytestmark = pytest.mark.django_db

LISTS = ("/api/v1/me/distributions/", f"/api/v1/trusts/{TRUST}/factors/")


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize("name", ["period", "period_from", "period_to"])
@pytest.mark.parametrize("value", ["2026-2", "abc", "2026-13", "02-2026", "2026-02-01", "２０２６-02"])
def test_a_period_not_written_yyyy_mm_is_refused_naming_the_parameter(alice, url, name, value):
    answer = alice.get(url, {name: value})
    assert_one_shape(answer, 400, "invalid")
    assert name in answer.json()["error"]["fields"]
    message = answer.json()["error"]["fields"][name][0]
    assert "YYYY-MM" in message or message == f"no such period: {value}"


@pytest.mark.parametrize("url", LISTS)
def test_a_period_written_yyyy_mm_filters_as_before(alice, url):
    february = alice.get(url, {"period": "2026-02"}).json()
    assert february["count"] >= 1 and {row["period"] for row in february["results"]} == {"2026-02"}
    assert alice.get(url, {"period_from": "2026-03"}).json()["count"] == 0
    assert alice.get(url, {"period_to": "2026-02"}).json()["count"] == february["count"]


def test_a_holding_names_the_period_and_payment_date_of_its_factor(alice):
    [holding] = alice.get("/api/v1/me/holdings/").json()["results"]
    assert (holding["factor"], holding["factor_period"], holding["factor_payment_date"]) == (
        "0.99900450", "2026-02", "2026-03-25")


def test_a_holding_before_any_distribution_has_no_factor_period(loans):
    from tests.integration.remittance.months import seed_trust

    seed_trust()
    [holding] = login("alice", holder="INV-01").get("/api/v1/me/holdings/").json()["results"]
    assert (holding["factor"], holding["factor_period"], holding["factor_payment_date"]) == ("1.00000000", None, None)
