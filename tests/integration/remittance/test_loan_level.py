"""The loan-level investor reporting file: a row per pool loan, the close's own figures, standing as of the
period's end, totals reconciled to the close."""
import csv
import io
from datetime import date

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import call_command

from remittance.domain.report_formats import LOAN_LEVEL_COLUMNS, loan_level_csv
from remittance.domain.trust_calendar import Period
from remittance.models import PeriodResult
from remittance.selectors.loan_level import loan_level_file, loan_level_rows
from remittance.selectors.reports import ReportUnavailable
from servicing.services.default import foreclosure_start, loan_liquidate
from servicing.services.delinquency import loans_age
from servicing.services.payoff import payoff_quote_get
from tests.actors import TESTS
from tests.integration.remittance.months import INSTALLMENT_CENTS, SEED_LOANS, close, pay, seed_trust
from tests.integration.trusts.deals import TRUST

pytestmark = pytest.mark.django_db
APRIL, MAY, JUNE = Period(2026, 4), Period(2026, 5), Period(2026, 6)
MONTHS = ("2026-02", "2026-03", "2026-04", "2026-05", "2026-06")


@pytest.fixture
def book(loans):
    """Five months: L004 never pays (foreclosed and liquidated in June, once more than 120 days late), L002
    curtails $5,000 in April, L003 pays off in April, L005 stops paying from April; aging at each month's end."""
    seed_trust()
    for month in MONTHS:
        period = Period.parse(month)
        for loan in SEED_LOANS:
            if (loan == "L004" or (loan == "L005" and period in (APRIL, MAY, JUNE))
                    or (loan == "L003" and period in (MAY, JUNE))):
                continue
            if loan == "L003" and period == APRIL:
                pay(loan, period, cents=payoff_quote_get(loan_number=loan, as_of=date(2026, 4, 1)).amount_due_cents)
                continue
            pay(loan, period, INSTALLMENT_CENTS + (500_000 if (loan, period) == ("L002", APRIL) else 0))
        if period == JUNE:
            foreclosure_start(loan_number="L004", started_on=date(2026, 6, 5), acting_user=TESTS)
            loan_liquidate(loan_number="L004", liquidated_on=date(2026, 6, 15), gross_proceeds_cents=8_000_000,
                           costs_cents=600_000, acting_user=TESTS)
        loans_age(as_of=period.last_day, acting_user=TESTS)
        close(month)


def rows_by_loan(period):
    return {r.loan_number: r for r in loan_level_file(TRUST, period).rows}


def test_the_rows_are_the_closes_figures_and_add_up_to_it(book):
    for month in MONTHS:
        file = loan_level_file(TRUST, month)
        result = PeriodResult.objects.get(trust__code=TRUST, period=month)
        collected = result.period_closed.collected
        assert [r.loan_number for r in file.rows] == SEED_LOANS
        assert sum(r.interest_remitted_cents for r in file.rows) == collected["interest"]
        assert sum(r.curtailment_cents for r in file.rows) == collected["curtailment"]
        assert sum(r.liquidation_proceeds_cents for r in file.rows) == collected["liquidation_principal"]
        assert sum(r.realized_loss_cents for r in file.rows) == result.realized_loss_cents
        assert sum(r.upb_end_cents for r in file.rows) == result.pool_balance_end_cents
        assert file.totals["pi_remitted"] == result.interest_collected_cents + result.principal_collected_cents


def test_each_loan_stands_as_it_did_at_the_periods_end(book):
    april, may, june = rows_by_loan("2026-04"), rows_by_loan("2026-05"), rows_by_loan("2026-06")
    assert april["L002"].curtailment_cents == 500_000 and april["L002"].days_delinquent == 0
    assert (april["L003"].status, april["L003"].payoff_principal_cents > 0, april["L003"].upb_end_cents) == (
        "paid_off", True, 0)
    assert april["L003"].next_due_date is None and april["L003"].delinquency_bucket == ""
    # L005 paid through March: due 1 April, 29 days late on 30 April (MBA: 30 days, the installment unpaid at
    # the month's end), 60 days on 31 May.
    assert (april["L005"].next_due_date, april["L005"].days_delinquent, april["L005"].delinquency_bucket) == (
        date(2026, 4, 1), 29, "30")
    assert (may["L005"].days_delinquent, may["L005"].delinquency_bucket) == (60, "60")
    # L004 never paid (due 1 February): 90+ from April, liquidated in June with its loss.
    assert (april["L004"].status, april["L004"].delinquency_bucket) == ("active", "90+")
    assert (may["L004"].status, may["L004"].delinquency_bucket) == ("active", "90+")
    assert june["L004"].status == "liquidated" and june["L004"].realized_loss_cents > 0
    assert june["L004"].liquidation_proceeds_cents + june["L004"].realized_loss_cents == may["L004"].upb_end_cents


def test_a_later_payment_does_not_restate_a_closed_month(book):
    before = rows_by_loan("2026-05")["L005"]
    pay("L005", Period(2026, 7), cents=4 * INSTALLMENT_CENTS, day=2)  # catches up in July
    after = rows_by_loan("2026-05")["L005"]
    assert after == before and after.days_delinquent == 60


def test_the_csv_has_the_documented_columns_and_a_total_row(book):
    file = loan_level_file(TRUST, "2026-06")
    rows = list(csv.DictReader(io.StringIO(loan_level_csv(loan_level_rows(file)))))
    assert tuple(rows[0]) == LOAN_LEVEL_COLUMNS
    assert [r["loan_number"] for r in rows] == [*SEED_LOANS, "TOTAL"]
    l004 = next(r for r in rows if r["loan_number"] == "L004")
    assert l004["status"] == "liquidated" and l004["modified"] == "false" and l004["bankruptcy_chapter"] == ""
    total = rows[-1]
    assert total["realized_loss"] == f"{file.totals['realized_loss'] / 100:.2f}"
    assert sum(int(r["realized_loss"].replace(".", "")) for r in rows[:-1]) == file.totals["realized_loss"]


def test_the_command_writes_it_and_refuses_an_open_period(book, tmp_path):
    out = tmp_path / "ll.csv"
    call_command("loan_level_report", "--trust", TRUST, "--period", "2026-06", "--output", str(out))
    assert out.read_text().splitlines()[0].startswith("loan_number,period,in_pool_at_start")
    with pytest.raises(ReportUnavailable, match="2026-07 is not closed"):
        loan_level_file(TRUST, "2026-07")


def test_the_api_serves_it_to_operations_only(book):
    from tests.api.conftest import login

    operations = login("olivia-ll", operations=True)
    answer = operations.get(f"/api/v1/trusts/{TRUST}/loan-level/2026-05/")
    assert answer.status_code == 200 and len(answer.json()["rows"]) == len(SEED_LOANS) + 1
    as_csv = operations.get(f"/api/v1/trusts/{TRUST}/loan-level/2026-05/", {"format": "csv"})
    assert as_csv.status_code == 200 and as_csv.content.decode().startswith("loan_number,")
    investor = login("alice-ll", holder="INV-01")
    assert investor.get(f"/api/v1/trusts/{TRUST}/loan-level/2026-05/").status_code == 403


def test_the_admin_download_needs_the_loans_permission(client, book):
    url = f"/admin/remittance/report/{TRUST}/2026-05/?format=loan-level"
    clerk = User.objects.create_user("clerk-ll", password="x", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_periodresult"))
    client.force_login(clerk)
    assert client.get(url).status_code == 403
    clerk.user_permissions.add(Permission.objects.get(codename="view_loan"))
    answer = client.get(url)
    assert answer.status_code == 200 and answer["Content-Disposition"].endswith('loan-level-XYZ-2026-1-2026-05.csv"')
