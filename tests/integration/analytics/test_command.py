"""project_cashflows: the issue's JSON shape, CSV and table, a trust's pool, and clear errors."""
import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command

from tests.integration.remittance.months import seed_trust
from tests.integration.trusts.deals import TRUST

POOL = ["--balance", "1000000", "--gross-rate", "6.5", "--net-rate", "6", "--term", "360"]
COLLATERAL_KEYS = {"period", "balance_begin", "smm", "scheduled_principal", "prepayment", "default", "loss",
                   "recovery", "interest_net", "principal", "cash_flow"}
CLASS_KEYS = {"wal_years", "final_period", "yield", "price", "modified_duration", "convexity", "periods"}
CLASS_PERIOD_KEYS = {"period", "balance_begin", "interest", "principal", "loss", "balance_end"}


def run(*args) -> str:
    out = io.StringIO()
    call_command("project_cashflows", *args, stdout=out)
    return out.getvalue()


def as_json(*args) -> dict:
    return json.loads(run(*args, "--format", "json"))


def test_json_has_the_issues_shape_with_amounts_as_decimal_strings():
    data = as_json(*POOL, "--age", "12", "--psa", "150", "--sda", "100", "--severity", "30", "--lag", "12",
                   "--class", "A:700000:5.5", "--class", "B:300000:6", "--delay-days", "24", "--yield", "6")
    assert set(data) == {"collateral", "classes"}
    assert set(data["collateral"]) == {"wal_years", "periods"}
    first = data["collateral"]["periods"][0]
    assert set(first) == COLLATERAL_KEYS and first["period"] == 1
    assert first["balance_begin"] == "1000000.00" and first["smm"] == "0.330958"  # 150% PSA, month 13: 3.9% CPR
    assert len(data["collateral"]["periods"]) == 348
    assert list(data["classes"]) == ["A", "B"]
    for cls in data["classes"].values():
        assert set(cls) == CLASS_KEYS and cls["yield"] == "6.00000"
        assert set(cls["periods"][0]) == CLASS_PERIOD_KEYS
        assert all(isinstance(v, str) for k, v in cls["periods"][0].items() if k != "period")
        assert isinstance(cls["final_period"], int)
    assert data["classes"]["A"]["periods"][0]["balance_begin"] == "700000.00"
    assert float(data["classes"]["A"]["wal_years"]) < float(data["classes"]["B"]["wal_years"])


def test_no_class_is_one_pass_through_class_at_the_net_rate():
    data = as_json(*POOL, "--cpr", "0")
    pt = data["classes"]["PT"]
    assert pt["price"] == "100.0000" and pt["periods"][0]["interest"] == "5000.00"  # 6% of 1,000,000 / 12
    assert data["collateral"]["periods"][0]["interest_net"] == "5000.00"
    assert pt["final_period"] == 360


def test_csv_is_one_long_table():
    rows = list(csv.DictReader(io.StringIO(run(*POOL, "--cpr", "6", "--format", "csv"))))
    kinds = [r["record"] for r in rows]
    assert kinds.count("collateral") == kinds.count("class") == 360 and kinds.count("measures") == 2
    measures = rows[-1]
    assert measures["name"] == "PT" and measures["price"] == "100.0000" and measures["final_period"] == "360"
    assert rows[0]["balance_begin"] == "1000000.00" and rows[0]["balance_end"]


def test_table_shows_the_measures_and_each_period():
    text = run(*POOL, "--psa", "100", "--class", "A1:400000:5", "--class", "A2:600000:6")
    assert text.splitlines()[0].split() == ["WAL", "(yrs)", "final", "yield", "%", "price", "mod", "dur",
                                            "convexity"]
    assert "collateral" in text and "Class A1" in text and "Class A2" in text
    assert "1,000,000.00" in text


@pytest.mark.django_db
def test_a_trust_is_projected_from_its_current_pool_and_classes(loans):
    seed_trust()
    data = as_json("--trust", TRUST, "--psa", "150", "--delay-days", "24")
    assert list(data["classes"]) == ["A"]
    assert data["collateral"]["periods"][0]["balance_begin"] == "1000000.00"
    a = data["classes"]["A"]
    assert a["periods"][0]["balance_begin"] == "1000000.00"
    # 6% loans less the 0.6% servicing fee and the 0.6% spread: 4,000.00 to the class in month 1
    assert a["periods"][0]["interest"] == "4000.00"
    assert len(a["periods"]) == 360


@pytest.mark.parametrize(("args", "message"), [
    ([*POOL, "--psa", "-100"], "--psa -100: speeds cannot be negative"),
    ([*POOL, "--cpr", "6", "--cdr", "2", "--severity", "101", "--lag", "6"], "loss severity is between 0 and 100"),
    ([*POOL, "--cpr", "6", "--class", "A:900000:5", "--class", "B:200000:6"],
     "--class faces add up to 1,100,000.00, more than the pool's 1,000,000.00"),
    ([*POOL, "--cpr", "6", "--class", "A-900000-5"], "is not NAME:FACE_DOLLARS:COUPON_PCT"),
    ([*POOL], "give one prepayment speed"),
    (["--trust", "NOPE", "--cpr", "6"], "no trust 'NOPE'"),
    (["--trust", TRUST, *POOL, "--cpr", "6"], "--trust takes the pool and classes from the trust"),
    ([*POOL, "--cpr", "6", "--price", "-5"], "--price -5: a price must be above zero"),
    ([*POOL, "--cpr", "6", "--price", "99", "--yield", "6"], "give --price or --yield, not both"),
])
@pytest.mark.django_db
def test_bad_input_is_a_command_error_naming_the_problem(args, message):
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run(*args)


@pytest.mark.django_db
def test_loans_not_yet_paying_are_projected_from_their_first_installment(loans):
    """The issue's example deal: first period January 2026, the loans' first installments due 1 February."""
    from tests.integration.trusts.deals import form, seed_deal

    form(seed_deal())
    periods = as_json("--trust", TRUST, "--cpr", "0")["collateral"]["periods"]
    assert periods[0]["principal"] == periods[0]["interest_net"] == "0.00"
    assert periods[0]["balance_begin"] == periods[1]["balance_begin"] == "1000000.00"
    assert periods[1]["scheduled_principal"] == "995.50"
    assert len(periods) == 361
