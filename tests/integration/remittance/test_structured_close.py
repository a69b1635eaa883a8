"""The month-end close runs a structured deal's declared waterfall (trusts.domain.deal_structure), records
it (TrusteeFeePaid, ReserveAccountMoved, PeriodClosed v3), reports it and verifies it, on the database:
a trust with a trustee fee, a reserve account, over-collateralisation and triggers closes months; an
accrual (Z) class accretes; a failing trigger switches principal to sequential; rebuild and verify agree."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from ledger.projections import differences
from ledger.selectors import account_balance
from ledger.verification import verify
from remittance.domain.statement_figures import DELINQUENT_60_ROWS
from remittance.domain.trust_calendar import Period
from remittance.models import ClassPeriod, PeriodResult
from remittance.selectors.distribution_statement import distribution_statement
from remittance.selectors.reports import remittance_report
from remittance.statement_pdf import statement_pdf
from remittance.verification import closed_periods_rederived
from servicing.models import LoanPosition
from servicing.services.boarding import tape_board
from tests.actors import TESTS
from tests.integration.remittance.months import SEED_LOANS, close, pay, pay_everyone, seed_trust
from tests.integration.trusts.deals import TRUST, form

pytestmark = pytest.mark.django_db

STEPS = ["trustee_fee", "servicing_fee", "spread", "interest", "reserve_draw", "principal", "losses", "turbo",
         "reserve_deposit", "excess"]
# The seed's pool is 1,000,000.00: the classes issue 970,000.00 of it (3% over-collateralised).
CLASSES = [
    {"name": "A", "face": "800000.00", "coupon": "4", "principal": "sequential", "priority": 1},
    {"name": "B", "face": "170000.00", "coupon": "5", "principal": "sequential", "priority": 2},
]
HOLDERS = [{"code": "INV-A", "name": "Holder of A", "class": "A", "face": "800000.00"},
           {"code": "INV-B", "name": "Holder of B", "class": "B", "face": "170000.00"}]
STRUCTURE = {
    "waterfall": STEPS, "trustee_fee_rate": "0.12", "overcollateralized": True,
    "triggers": {"stepdown_period": 36, "cumulative_loss": [{"from_period": 37, "percent": "1.25"}],
                 "delinquency_60_percent": "8", "sticky": True},
    "overcollateralization": {"target_percent": "1.5", "stepdown_target_percent": "3.0", "floor_percent": "0.5"},
    "reserve_account": {"target": "5000.00", "initial_deposit": "1000.00"},
}
MONTHS = ("2026-02", "2026-03", "2026-04")


def structured_trust(**changes):
    return seed_trust(classes=CLASSES, holders=HOLDERS, **{**STRUCTURE, **changes})


def closed(period: str, trust: str = TRUST):
    return PeriodResult.objects.get(trust__code=trust, period=period).period_closed


def class_rows(period: str) -> dict[str, ClassPeriod]:
    return {r.security_class.name: r for r in ClassPeriod.objects.filter(period=period).select_related(
        "security_class")}


def close_months(months=MONTHS, loans=SEED_LOANS):
    for month in months:
        pay_everyone(month, loans=loans)
        close(month)


def test_a_structured_trust_closes_three_months_balanced_and_verified(loans):
    structured_trust()
    close_months()
    fees = 0
    for number, month in enumerate(MONTHS, start=1):
        f = closed(month)
        assert f.period_number == number
        # The trustee's fee: 0.12% a year of the pool's balance at the period's start, paid from interest first.
        assert f.trustee_fee_cents == f.trustee_fee_due_cents == f.trustee_fee_paid_cents
        assert f.trustee_fee_cents == (f.pool_balance_begin_cents * 12 + 60_000) // 120_000  # x 0.12% / 12, half up
        fees += f.trustee_fee_paid_cents
        assert f.reconciliation.cash_in_cents == f.reconciliation.out_cents
        # Before the step-down, triggers are tested and principal is sequential.
        assert f.triggers is not None and not f.triggers.stepdown_reached and not f.triggers.failed
        assert f.triggers.principal_rule == "sequential" and f.triggers.delinquency_60_limit == Decimal(8)
        assert f.oc_target_cents == 1_500_000  # 1.5% of the cut-off balance
        assert f.reserve_balance_end_cents == (f.reserve_balance_begin_cents + f.reserve_deposit_cents
                                               - f.reserve_draw_cents - f.reserve_released_cents)
    first = closed("2026-02")
    assert first.trustee_fee_cents == 10_000  # 1,000,000.00 x 0.12% / 12 = 100.00
    assert first.reserve_funded_cents == first.reserve_balance_begin_cents == 100_000  # the initial deposit
    # Every class's interest is paid in full: 4% of 800,000.00 and 5% of 170,000.00 over 12.
    assert [(c.class_name, c.interest_paid_cents) for c in first.classes] == [("A", 266_667), ("B", 70_833)]
    # Interest left after the fees and the classes (5,000.00 - 100.00 - 500.00 - 500.00 - 3,375.00) goes into
    # the reserve, below its target; the over-collateralisation (30,000.00) is above its target (15,000.00), so
    # the pool's principal is released to the residual holder rather than paid to the classes.
    assert (first.reserve_deposit_cents, first.excess_interest_cents, first.reserve_balance_end_cents) == (
        52_500, 0, 152_500)
    assert first.oc_release_cents == first.excess_principal_cents == 99_550
    assert first.class_line("A").principal_paid_cents == 0
    last = closed(MONTHS[-1])
    assert account_balance(f"trustee:{TRUST}:fees") == fees
    assert account_balance(f"trust:{TRUST}:reserve") == last.reserve_balance_end_cents
    assert account_balance(f"issuer:{TRUST}:reserve_funding") == -100_000
    assert account_balance(f"trust:{TRUST}:cash") == sum(closed(m).retained_cents for m in MONTHS)
    # The classes' balances stay below the pool's by the over-collateralisation.
    assert last.oc_end_cents == last.pool_balance_end_cents - sum(c.balance_end_cents for c in last.classes)
    report = verify()
    assert report.ok, report
    assert closed_periods_rederived() == []


def test_a_structured_trust_rebuilds_from_its_log_identically(loans):
    structured_trust()
    close_months(MONTHS[:2])
    before = sorted(ClassPeriod.objects.values_list("security_class_id", "period", "balance_end_cents", "kind",
                                                    "interest_accrued_cents"))
    call_command("rebuild_projections", verbosity=0)
    assert differences() == []
    assert sorted(ClassPeriod.objects.values_list("security_class_id", "period", "balance_end_cents", "kind",
                                                  "interest_accrued_cents")) == before


def test_verify_ledger_catches_a_tampered_structure_figure(loans):
    structured_trust()
    close_months(MONTHS[:1])
    result = PeriodResult.objects.get(trust__code=TRUST, period="2026-02")
    figures = dict(result.figures)
    figures["reserve_balance_end_cents"] += 1
    PeriodResult.objects.filter(pk=result.pk).update(figures=figures)  # the read model, as a superuser would
    problems = closed_periods_rederived()
    assert len(problems) == 1 and "reserve_balance_end_cents" in problems[0]


def test_the_report_and_the_statement_show_the_deal(loans):
    structured_trust()
    close_months(MONTHS[:1])
    report = remittance_report(TRUST, "2026-02")
    deal = report["deal"]
    assert deal["trustee_fee"]["paid_cents"] == 10_000
    assert deal["reserve"]["funded_cents"] == 100_000 and deal["reserve"]["balance_begin_cents"] == 0
    assert deal["overcollateralization"]["target_cents"] == 1_500_000
    tests = {t["test"]: t for t in deal["triggers"]["tests"]}
    assert set(tests) == {"delinquency_60"}  # the cumulative-loss limit is in force from period 37
    assert tests["delinquency_60"]["limit"] == "8.0000" and tests["delinquency_60"]["passed"]
    assert deal["triggers"]["principal_rule"] == "sequential" and not deal["triggers"]["stepdown_reached"]
    assert [(c["class"], c["kind"], c["interest_accrued_cents"]) for c in report["classes"]] == [
        ("A", "standard", 0), ("B", "standard", 0)]
    r = report["reconciliation"]
    assert r["reconciled"] and r["trustee_fee_cents"] == 10_000 and r["difference_cents"] == 0
    statement = distribution_statement(TRUST, "2026-02")
    assert statement["triggers"]["tests"] and statement["deal"]["reserve"]["funded_cents"] == 100_000
    assert statement_pdf(statement).startswith(b"%PDF")
    json.dumps(statement, default=str)


def test_an_accrual_class_accretes_and_pays_its_accrual_to_the_class_ahead(loans):
    seed_trust(classes=[
        {"name": "A", "face": "700000.00", "coupon": "4", "principal": "sequential", "priority": 1},
        {"name": "Z", "face": "300000.00", "coupon": "6", "principal": "sequential", "priority": 2,
         "kind": "accrual"},
    ], holders=[{"code": "INV-A", "name": "Holder of A", "class": "A", "face": "700000.00"},
                {"code": "INV-Z", "name": "Holder of Z", "class": "Z", "face": "300000.00"}])
    close_months(MONTHS[:2])
    feb = closed("2026-02")
    z, a = feb.class_line("Z"), feb.class_line("A")
    assert z.kind == "accrual" and z.interest_accrued_cents == 150_000  # 6% of 300,000.00 over 12
    assert z.interest_paid_cents == 0 and z.balance_end_cents == 30_000_000 + 150_000
    assert feb.accrual_cents == 150_000
    # The accrual is paid to A as principal, with the pool's principal.
    assert a.principal_paid_cents == 99_550 + 150_000
    rows = class_rows("2026-03")
    assert rows["Z"].balance_begin_cents == 30_150_000 and rows["Z"].interest_accrued_cents == 150_750
    assert rows["Z"].balance_end_cents == 30_150_000 + 150_750 and rows["Z"].kind == "accrual"
    assert account_balance("holder:INV-Z:cash") == 0  # an accrual is no cash
    report = verify()
    assert report.ok, report


def test_a_failing_trigger_switches_principal_to_sequential(loans):
    # Over-collateralised at its target (1.5%), so the classes are paid the pool's principal.
    seed_trust(classes=[{**CLASSES[0]}, {**CLASSES[1], "face": "185000.00"}],
               holders=[HOLDERS[0], {**HOLDERS[1], "face": "185000.00"}],
               **{**STRUCTURE, "triggers": {"stepdown_period": 1, "delinquency_60_percent": "5", "sticky": True},
                  "overcollateralization": {"target_percent": "1.5", "stepdown_target_percent": "1.5"}})
    close_months(("2026-02", "2026-03"))
    march = closed("2026-03")
    assert march.triggers.stepdown_reached and not march.triggers.failed
    assert march.triggers.principal_rule == "pro-rata"
    # L001 pays nothing from April: 30 days late at April's end, 60 at May's (10% of the pool: above 5%).
    close_months(("2026-04", "2026-05"), loans=SEED_LOANS[1:])
    april, may = closed("2026-04"), closed("2026-05")
    assert april.triggers.principal_rule == "pro-rata" and not april.triggers.failed
    assert may.triggers.failed and may.triggers.in_effect and may.triggers.principal_rule == "sequential"
    assert may.triggers.delinquency_60_percent > Decimal(5) and may.trigger_failed
    assert may.class_line("B").principal_paid_cents == 0 < may.class_line("A").principal_paid_cents
    assert april.class_line("B").principal_paid_cents > 0
    tests = {t["test"]: t for t in remittance_report(TRUST, "2026-05")["deal"]["triggers"]["tests"]}
    assert not tests["delinquency_60"]["passed"]
    # Sticky: paid up again in June, the deal stays sequential.
    pay(SEED_LOANS[0], Period.parse("2026-06"), 84_955 * 3)
    close_months(("2026-06",), loans=SEED_LOANS[1:])
    june = closed("2026-06")
    assert june.triggers.in_effect and june.triggers.principal_rule == "sequential" and june.trigger_failed
    report = verify()
    assert report.ok, report


def test_the_trigger_reads_delinquency_as_the_statement_counts_it():
    assert DELINQUENT_60_ROWS == ("60", "90+", "foreclosure", "reo", "bankruptcy")


def test_the_admin_report_page_and_statement_show_the_deal(admin_client, loans):
    structured_trust()
    close_months(MONTHS[:1])
    html = admin_client.get(reverse("admin:remittance_report", args=[TRUST, "2026-02"])).content.decode()
    assert 'id="report-deal"' in html and "trustee fee" in html and "100.00" in html
    assert "60+ days delinquent" in html and "8.0000" in html and ">sequential<" in html
    assert "reserve funded (initial deposit)" in html and "1,000.00" in html
    section = html[html.index('id="report-reconciliation"'):]
    # Cash in = out with the reserve and the trustee fee, holders, classes (over-collateralised: no pool line).
    assert section.count('class="reconciliation-line ok"') == 3 and "mismatch" not in section
    response = admin_client.get(reverse("admin:remittance_statement", args=[TRUST, "2026-02"]))
    assert response.status_code == 200


def test_the_agency_deal_closes_its_pac_support_z_and_io_classes(loans):
    """The example agency deal (docs/deals/): a PAC with its support class, a Z and an IO on the PAC's balance,
    every borrower paying; three closes balanced, re-derived by verify_ledger, the IO's balance its notional."""
    deals = Path(__file__).resolve().parents[3] / "docs" / "deals"
    tape_board(raw=(deals / "agency-pac-2026-1-tape.csv").read_bytes(), boarded_on=date(2026, 1, 15),
               acting_user=TESTS)
    trust = form(json.loads((deals / "agency-pac-2026-1.json").read_text()))
    numbers = list(trust.pool.values_list("loan_id", flat=True))
    installments = {p.loan_id: p.payment_pi_cents + p.escrow_monthly_cents
                    for p in LoanPosition.objects.filter(loan_id__in=numbers)}
    for month in MONTHS:
        for number in numbers:
            pay(number, Period.parse(month), installments[number])
        close(month, trust=trust.code)
    for month in MONTHS:
        f = closed(month, trust.code)
        kinds = {c.class_name: c.kind for c in f.classes}
        assert kinds == {"PA": "pac", "S": "support", "Z": "accrual", "PX": "io"}
        assert f.class_line("PX").balance_end_cents == f.class_line("PA").balance_end_cents  # its notional
        assert f.class_line("Z").interest_accrued_cents > 0 and f.accrual_cents > 0
        assert f.reconciliation.cash_in_cents == f.reconciliation.out_cents
    statement = distribution_statement(trust.code, MONTHS[-1])
    lines = {c["class"]: c for c in statement["classes"]}
    assert lines["PX"]["kind"] == "io" and lines["PX"]["credit_enhancement"] == "n/a"
    assert lines["Z"]["interest_accrued_cents"] > 0 and statement_pdf(statement).startswith(b"%PDF")
    report = verify()
    assert report.ok, report


def test_the_clean_up_call_retires_every_class_and_releases_the_reserve(loans):
    """February closed; nine loans paid off in March, the call exercised on 20 March on the last: March's close
    retires every class, writes off what principal cannot pay, releases the reserve to the residual holder."""
    from servicing.services.payoff import payoff_quote_get
    from trusts.services.cleanup_call import exercise_cleanup_call

    structured_trust(cleanup_call_percent="10")
    close_months(MONTHS[:1])
    march = Period.parse("2026-03")
    for loan in SEED_LOANS[:9]:
        pay(loan, march, cents=payoff_quote_get(loan_number=loan, as_of=date(2026, 3, 10)).amount_due_cents, day=10)
    exercise_cleanup_call(trust_code=TRUST, call_date=date(2026, 3, 20), acting_user=TESTS)
    close("2026-03")
    f = closed("2026-03")
    assert f.call_retired and all(c.balance_end_cents == 0 for c in f.classes)
    assert f.reserve_balance_begin_cents == closed("2026-02").reserve_balance_end_cents > 0
    assert f.reserve_released_cents == f.reserve_balance_begin_cents + f.reserve_deposit_cents - f.reserve_draw_cents
    assert f.reserve_balance_end_cents == 0 and account_balance(f"trust:{TRUST}:reserve") == 0
    assert f.reconciliation.cash_in_cents == f.reconciliation.out_cents
    assert remittance_report(TRUST, "2026-03")["deal"]["call"]["retired"]
    report = verify()
    assert report.ok, report
