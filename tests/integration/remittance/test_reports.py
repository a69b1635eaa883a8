"""Reports of a closed period: the remittance report, the investor statement, the factor file and their commands."""
import csv
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from analytics.selectors import realized_speeds
from remittance.domain.trust_calendar import Period
from remittance.domain.report_formats import (
    factor_file_csv,
    report_csv,
    report_json,
    report_table,
    statement_csv,
    to_json,
)
from remittance.selectors.reports import (
    ReportUnavailable,
    factor_file,
    investor_statement,
    remittance_report,
)
from tests.integration.remittance.months import (
    INSTALLMENT_CENTS,
    SEED_LOANS,
    close,
    pay,
    pay_everyone,
    seed_trust,
)
from tests.integration.trusts.deals import TRUST

pytestmark = pytest.mark.django_db


@pytest.fixture
def february(loans):
    """The seed's trust with everyone paying February 2026, closed."""
    seed_trust()
    pay_everyone("2026-02")
    close("2026-02")


def run(command: str, *args: str) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


def csv_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


REPORT_SECTIONS = ["header", "collections", "advances", "servicing_fee", "issuer_spread", "classes", "excess",
                   "retained", "pool", "speeds", "holders", "reconciliation"]


def test_the_seed_month_report_in_json(february):
    r = report_json(remittance_report(TRUST, "2026-02"))
    assert list(r) == REPORT_SECTIONS
    assert r["header"] == {"trust": TRUST, "name": "XYZ Mortgage Trust 2026-1", "period": "2026-02",
                           "record_date": "2026-02-27", "payment_date": "2026-03-25",
                           "remittance_type": "actual/actual"}
    assert r["collections"]["by_kind"]["interest"] == "5000.00"
    assert r["collections"]["by_kind"]["scheduled_principal"] == "995.50"
    assert r["collections"]["prior_period"] == "0.00"
    assert r["servicing_fee"] == {"this_period": "500.00", "carried": "0.00", "due": "500.00", "paid": "500.00",
                                  "shortfall": "0.00"}
    assert r["issuer_spread"]["paid"] == "500.00" and r["issuer_spread"]["shortfall"] == "0.00"
    assert r["classes"] == [{
        "class": "A", "coupon": "net-wac", "balance_begin": "1000000.00", "interest_due": "4000.00",
        "interest_paid": "4000.00", "interest_shortfall": "0.00", "principal_paid": "995.50",
        "loss_written_off": "0.00", "balance_end": "999004.50", "factor": "0.99900450"}]
    assert r["excess"] == {"residual_holder": "XYZ", "interest": "0.00", "principal": "0.00", "total": "0.00"}
    assert r["retained"] == {"unplaced_share": "0.00"}
    assert r["pool"] == {"original": "1000000.00", "balance_begin": "1000000.00", "balance_end": "999004.50",
                         "factor": "0.99900450", "weighted_note_rate": "6.0000", "weighted_net_rate": "4.8000"}
    # Everyone paid exactly the installment: nothing prepaid, in loan month 1.
    no_rate = {"voluntary_smm": "0.000000", "voluntary_cpr": "0.000000", "voluntary_psa": None, "mdr": "0.000000",
               "cdr": "0.000000", "severity": None}
    assert r["speeds"] == {"smm": "0.000000", "cpr": "0.000000", "psa": "0.000000", "loan_month": 1,
                           "scheduled_end": "999004.50", "actual_end": "999004.50", "voluntary": "0.00",
                           "defaulted": "0.00", "loss": "0.00",
                           "windows": {"1m": no_rate, "3m": dict.fromkeys(no_rate), "6m": dict.fromkeys(no_rate),
                                       "12m": dict.fromkeys(no_rate), "life": no_rate}}
    assert r["holders"] == {"holders_paid": 10, "payments": 10, "paid": "4995.50"}
    assert r["reconciliation"] == {
        "cash_in": "5995.50", "servicing_fee": "500.00", "issuer_spread": "500.00", "paid_to_holders": "4995.50",
        "excess": "0.00", "retained": "0.00", "out": "5995.50", "difference": "0.00", "reconciled": True}
    assert json.loads(json.dumps(r)) == r


def test_the_seed_month_report_in_csv(february):
    rows = csv_rows(report_csv(remittance_report(TRUST, "2026-02")))
    values = {(row["section"], row["item"]): row["value"] for row in rows}
    assert len(values) == len(rows)
    assert values[("header", "trust")] == TRUST
    assert values[("collections", "by_kind.interest")] == "5000.00"
    assert values[("servicing_fee", "paid")] == "500.00" and values[("issuer_spread", "paid")] == "500.00"
    assert values[("classes", "A.interest_paid")] == "4000.00"
    assert values[("classes", "A.principal_paid")] == "995.50"
    assert values[("classes", "A.factor")] == "0.99900450"
    assert values[("reconciliation", "reconciled")] == "true"
    assert values[("speeds", "smm")] == "0.000000" and values[("speeds", "loan_month")] == "1"


def test_the_reports_speeds_are_the_realized_speeds_of_the_period(loans):
    seed_trust()
    for loan in SEED_LOANS:  # L001 curtails $10,000 in February
        pay(loan, Period.parse("2026-02"), INSTALLMENT_CENTS + (1_000_000 if loan == "L001" else 0))
    close("2026-02")
    pay_everyone("2026-03", loans=SEED_LOANS[1:])  # L001 misses March: a negative rate
    close("2026-03")
    for period in ("2026-02", "2026-03"):
        realized = realized_speeds(TRUST, period)
        report = remittance_report(TRUST, period)
        expected = {"smm": f"{realized.speeds.smm:.6f}", "cpr": f"{realized.speeds.cpr:.6f}",
                    "psa": f"{realized.speeds.psa:.6f}", "loan_month": realized.loan_month,
                    "scheduled_end_cents": realized.balance_end_scheduled_cents,
                    "actual_end_cents": realized.balance_end_actual_cents}
        assert {k: report["speeds"][k] for k in expected} == expected
        # February: no liquidation and no one behind, so the curtailment is all that fell below the schedule
        # and the voluntary rate is the total. March: a missed installment lowers the total (negative), while
        # the voluntary rate counts what was prepaid: nothing.
        assert report["speeds"]["windows"]["1m"]["voluntary_smm"] == (
            expected["smm"] if period == "2026-02" else "0.000000")
        table = report_table(report)
        assert f"SMM {expected['smm']}%, CPR {expected['cpr']}%, PSA {expected['psa']}%" in table
        rows = {row["item"]: row["value"] for row in csv_rows(report_csv(report)) if row["section"] == "speeds"}
        assert (rows["smm"], rows["cpr"], rows["psa"]) == (expected["smm"], expected["cpr"], expected["psa"])
    february, march = (remittance_report(TRUST, p)["speeds"] for p in ("2026-02", "2026-03"))
    assert float(february["smm"]) > 0 and float(march["smm"]) < 0
    assert json.loads(run("remittance_report", "--trust", TRUST, "--period", "2026-03", "--format", "json"))[
        "speeds"]["cpr"] == march["cpr"]


def test_a_five_percent_coupon_shows_its_shortfall(loans):
    seed_trust(classes=[{"name": "A", "face": "1000000.00", "coupon": "5", "principal": "pro-rata",
                         "denomination": "1000.00"}])
    pay_everyone("2026-02")
    close("2026-02")
    a = report_json(remittance_report(TRUST, "2026-02"))["classes"][0]
    assert (a["coupon"], a["interest_due"], a["interest_paid"], a["interest_shortfall"]) == (
        "5", "4166.67", "4000.00", "166.67")
    assert "166.67" in run("remittance_report", "--trust", TRUST, "--period", "2026-02")


def test_the_report_needs_a_closed_period_of_a_known_trust(february):
    with pytest.raises(ReportUnavailable, match="XYZ-2026-1 2026-03 is not closed"):
        remittance_report(TRUST, "2026-03")
    with pytest.raises(ReportUnavailable, match="no trust 'NOPE'"):
        remittance_report("NOPE", "2026-02")
    with pytest.raises(ReportUnavailable, match="'2026-2' is not a period"):
        remittance_report(TRUST, "2026-2")


def test_the_investor_statement_in_json(february):
    s = to_json(investor_statement("INV-01", "2026-02"))
    assert s["holder"] == {"code": "INV-01", "name": "Investor 1"}
    assert s["period"] == {"period": "2026-02", "record_date": "2026-02-27"}
    assert s["distributions"] == [{
        "trust": TRUST, "class": "A", "face_held": "100000.00", "factor": "0.99900450", "interest": "400.00",
        "principal": "99.55", "total": "499.55", "payment_date": "2026-03-25"}]
    assert s["totals"] == {"interest": "400.00", "principal": "99.55", "total": "499.55"}
    assert s["holdings"] == [{"trust": TRUST, "class": "A", "face_held": "100000.00"}]


def test_the_investor_statement_in_csv(february):
    rows = csv_rows(statement_csv(investor_statement("INV-01", "2026-02")))
    assert [row["line"] for row in rows] == ["distribution", "total", "holding"]
    paid, total, holding = rows
    assert (paid["trust"], paid["class"], paid["factor"], paid["total"]) == (TRUST, "A", "0.99900450", "499.55")
    assert (total["interest"], total["principal"], total["total"]) == ("400.00", "99.55", "499.55")
    assert holding["face_held"] == "100000.00"


def test_the_statement_needs_a_known_holder_with_distributions(february):
    with pytest.raises(ReportUnavailable, match="holder INV-99 is unknown"):
        investor_statement("INV-99", "2026-02")
    with pytest.raises(ReportUnavailable, match="holder INV-01 has no distributions for 2026-05"):
        investor_statement("INV-01", "2026-05")


def test_the_factor_file(february):
    rows = factor_file("2026-02")
    assert to_json(rows) == [
        {"trust": TRUST, "class": "A", "period": "2026-02", "payment_date": "2026-03-25", "factor": "0.99900450",
         "balance": "999004.50", "original_face": "1000000.00"},
        {"trust": TRUST, "class": "(pool)", "period": "2026-02", "payment_date": "2026-03-25",
         "factor": "0.99900450", "balance": "999004.50", "original_face": "1000000.00"},
    ]
    assert [(r["class"], r["factor"]) for r in csv_rows(factor_file_csv(rows))] == [
        ("A", "0.99900450"), ("(pool)", "0.99900450")]
    with pytest.raises(ReportUnavailable, match="no trust has closed 2026-03"):
        factor_file("2026-03")


def test_the_remittance_report_command_in_each_format(february):
    table = run("remittance_report", "--trust", TRUST, "--period", "2026-02")
    assert "XYZ Mortgage Trust 2026-1" in table and "5,000.00" in table and "0.99900450" in table
    assert "reconciled" in table and "NOT" not in table
    data = json.loads(run("remittance_report", "--trust", TRUST, "--period", "2026-02", "--format", "json"))
    assert data["reconciliation"]["reconciled"] is True
    text = run("remittance_report", "--trust", TRUST, "--period", "2026-02", "--format", "csv")
    assert {"section": "classes", "item": "A.interest_paid", "value": "4000.00"} in csv_rows(text)


def test_the_investor_statement_command_in_each_format(february):
    table = run("investor_statement", "--holder", "INV-01", "--period", "2026-02")
    assert "Investor 1" in table and "499.55" in table and "100,000.00" in table
    data = json.loads(run("investor_statement", "--holder", "INV-01", "--period", "2026-02", "--format", "json"))
    assert data["totals"]["total"] == "499.55"
    text = run("investor_statement", "--holder", "INV-01", "--period", "2026-02", "--format", "csv")
    assert csv_rows(text)[1]["total"] == "499.55"


def test_the_factor_file_command_in_each_format(february, tmp_path):
    assert csv_rows(run("factor_file", "--period", "2026-02"))[0]["factor"] == "0.99900450"
    data = json.loads(run("factor_file", "--period", "2026-02", "--format", "json"))
    assert [row["class"] for row in data] == ["A", "(pool)"]
    path = tmp_path / "factors.csv"
    assert run("factor_file", "--period", "2026-02", "--output", str(path)) == f"wrote {path}\n"
    assert csv_rows(path.read_text())[1]["balance"] == "999004.50"


def test_the_commands_name_what_is_missing(february):
    with pytest.raises(CommandError, match="XYZ-2026-1 2026-03 is not closed"):
        run("remittance_report", "--trust", TRUST, "--period", "2026-03", "--format", "json")
    with pytest.raises(CommandError, match="holder INV-01 has no distributions for 2026-03"):
        run("investor_statement", "--holder", "INV-01", "--period", "2026-03")
    with pytest.raises(CommandError, match="no trust has closed 2026-03"):
        run("factor_file", "--period", "2026-03")


def test_sequential_classes_with_unplaced_bonds_reconcile(loans):
    seed_trust(classes=[
        {"name": "A1", "face": "600000.00", "coupon": "4", "principal": "sequential", "priority": 1,
         "denomination": "1000.00"},
        {"name": "A2", "face": "400000.00", "coupon": "4", "principal": "sequential", "priority": 2,
         "denomination": "1000.00"},
    ], holders=[{"code": "INV-01", "name": "Investor 1", "class": "A1", "face": "100000.00"},
                {"code": "INV-02", "name": "Investor 2", "class": "A2", "face": "400000.00"}])
    pay_everyone("2026-02")
    close("2026-02")
    r = report_json(remittance_report(TRUST, "2026-02"))
    assert [(c["class"], c["interest_paid"], c["principal_paid"], c["factor"]) for c in r["classes"]] == [
        ("A1", "2000.00", "995.50", "0.99834083"), ("A2", "1333.33", "0.00", "1.00000000")]
    assert r["excess"]["total"] == "666.67"
    assert r["holders"] == {"holders_paid": 2, "payments": 2, "paid": "1832.58"}
    assert r["retained"] == {"unplaced_share": "2496.25"}
    assert r["reconciliation"]["out"] == r["reconciliation"]["cash_in"] == "5995.50"
    assert r["reconciliation"]["reconciled"] is True
    assert [(row["class"], row["factor"]) for row in to_json(factor_file("2026-02"))] == [
        ("A1", "0.99834083"), ("A2", "1.00000000"), ("(pool)", "0.99900450")]
    assert "fee 500.00 + spread 500.00 + holders 1,832.58 + excess 666.67 + retained 2,496.25 = 5,995.50: reconciled" \
        in run("remittance_report", "--trust", TRUST, "--period", "2026-02")


def test_the_realized_speeds_read_the_pools_balances_in_a_fixed_number_of_queries(february):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ledger.selectors import account_balance, account_balances
    from remittance.models import PeriodResult
    from remittance.selectors.reports import period_speeds
    from servicing.domain import accounts
    from trusts.models import Trust

    names = [accounts.principal(n) for n in SEED_LOANS] + ["loan:NOBODY:principal"]
    assert account_balances(names) == {name: account_balance(name) for name in names}
    trust = Trust.objects.get(code=TRUST)
    result = PeriodResult.objects.get(trust=trust, period="2026-02")
    with CaptureQueriesContext(connection) as queries:
        period_speeds(trust, result)
    assert len(queries) < len(SEED_LOANS)  # not one query per loan in the pool
