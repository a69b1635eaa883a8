"""Structured deals in the admin, in a real headless Chromium against a live server on PostgreSQL.

The example deals of docs/deals/ formed from their tapes: the trust page's read-only Structure panel
(the waterfall, each class's kind and features, the triggers, OC, reserve, clean-up call and trustee
fee) and the class list filtered by kind; the private-label deal's closes (one borrower stopping, so
that May's 60+ test fails) on the remittance report and the distribution statement pages, with the
trustee fee, OC, reserve and each trigger test's value, limit and result and the principal rule; the
clean-up call asked for, refused, priced, confirmed and recorded, and not offered without the permission.
"""
import json
from datetime import date
from pathlib import Path

import pytest
from django.urls import reverse

from ledger import business_time
from ledger.models import Event
from remittance.domain.trust_calendar import Period
from remittance.models import PeriodResult
from remittance.selectors.reports import remittance_report
from servicing.models import LoanPosition
from servicing.services.boarding import tape_board
from servicing.services.payoff import payoff_quote_get
from tests.actors import TESTS
from tests.browser.conftest import WAIT_SECONDS, staff_user
from tests.integration.remittance.months import close, pay
from tests.integration.trusts.conftest import loans  # noqa: F401
from tests.integration.trusts.deals import TRUST, form
from tests.integration.trusts.test_cleanup_call import L010_AFTER_FEB, MAR20, paid_down
from trusts.models import PoolLoan, Trust

pytestmark = [pytest.mark.browser, pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

DEALS = Path(__file__).resolve().parents[2] / "docs" / "deals"
AGENCY, PRIVATE = "agency-pac-2026-1", "private-label-2026-1"
PLS = "PLS-2026-1"
MONTHS = ("2026-02", "2026-03", "2026-04", "2026-05")
STOPS = "L204"  # 420,000.00 of the 4,000,000.00 pool stops paying in April: 60+ days late at May's end, above 8%
SEES_TRUSTS = ("trusts.view_trust", "trusts.view_securityclass")
MAY_CALL = ("trusts.view_trust", "trusts.change_poolloan")  # the call takes every loan out of the pool


def formed(*names: str) -> dict[str, Trust]:
    """The example deals boarded from their tapes and formed from their deal files, by name."""
    trusts = {}
    for name in names:
        tape_board(raw=(DEALS / f"{name}-tape.csv").read_bytes(), boarded_on=date(2026, 1, 15), acting_user=TESTS)
        trusts[name] = form(json.loads((DEALS / f"{name}.json").read_text()))
    return trusts


def cells(page, selector: str) -> list[list[str]]:
    """Each row of the table(s) at `selector` as its cells' text (headers and data alike), as written: the
    admin's stylesheet shows headers in capitals, which is not what the page says."""
    return page.driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0] + ' tr'))"
        ".map(r => Array.from(r.cells).map(c => c.textContent.replace(/\\s+/g, ' ').trim()))", selector)


def written(element) -> str:
    """An element's text as the page writes it (Selenium's text is as shown: the object tools in capitals)."""
    return " ".join(element.get_attribute("textContent").split())


def wait_until(page, condition, timeout: float = WAIT_SECONDS):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(page.driver, timeout).until(lambda driver: condition())


def click_to_next_page(page, element) -> None:
    """Click what loads a new page, and wait until it has replaced the old one and loaded: the next page may
    have the same elements (a refusal after a refusal, a list after a list), so waiting for them is no proof."""
    from selenium.webdriver.support import expected_conditions

    old = page.find("html")
    element.click()
    wait_until(page, lambda: expected_conditions.staleness_of(old)(page.driver))
    wait_until(page, lambda: page.driver.execute_script("return document.readyState") == "complete")


def trust_page(trust: Trust) -> str:
    return reverse("admin:trusts_trust_change", args=[trust.pk])


# ------------------------------------------------------------------ the trust page's Structure panel


def test_the_trust_pages_show_each_deals_structure_and_the_class_list_filters_by_kind(page):
    trusts = formed(AGENCY, PRIVATE)
    staff_user("olivia", permissions=SEES_TRUSTS)
    page.log_in("olivia")

    page.go(trust_page(trusts[PRIVATE]))
    page.wait_for(".field-structure_panel")
    deal = {row[0]: row[1] for row in cells(page, ".field-structure_panel table:first-of-type")}
    assert deal["waterfall"] == ("trustee_fee → servicing_fee → spread → interest → reserve_draw → principal → "
                                 "losses → turbo → reserve_deposit → excess")
    assert deal["trustee fee"] == "0.0100% a year"
    assert deal["triggers"] == ("step-down after period 36; fails on cumulative loss above 1.25% from period 37; "
                                "cumulative loss above 2% from period 49; cumulative loss above 2.75% from period 61; "
                                "60+ days delinquent above 8%; sticky (once failed, for good)")
    assert deal["overcollateralization"] == ("target 1.5% of the cut-off balance; after the step-down 3.0% of the "
                                             "pool, at least 0.5% of the cut-off balance")
    assert deal["reserve account"] == "target 100,000.00, initial deposit 25,000.00"
    assert deal["clean-up call"] == "when the pool is below 10% of its cut-off balance"
    assert cells(page, ".field-structure_panel table:last-of-type")[1:] == [
        ["A", "standard", "—"], ["M", "standard", "—"], ["B", "standard", "—"]]
    # Read-only: the panel offers nothing to type into, and the page nothing to save.
    assert not page.find_all(".field-structure_panel input, .field-structure_panel select")
    assert not page.find_all("input[name=_save]")
    page.screenshot("structure-private-label.png")

    page.go(trust_page(trusts[AGENCY]))
    page.wait_for(".field-structure_panel")
    deal = {row[0]: row[1] for row in cells(page, ".field-structure_panel table:first-of-type")}
    assert deal["waterfall"].endswith("(the standard deal)")
    assert (deal["trustee fee"], deal["triggers"], deal["overcollateralization"], deal["reserve account"],
            deal["clean-up call"]) == ("none", "none", "none", "none", "none")
    classes = {row[0]: row[1:] for row in cells(page, ".field-structure_panel table:last-of-type")[1:]}
    assert classes["PA"] == ["pac", "schedule of 217 periods, 1,796,838.00 after period 1 to 0.00 after period 217; "
                                    "band 90–300 PSA"]
    assert classes["S"] == ["support", "—"] and classes["Z"] == ["accrual", "—"]
    assert classes["PX"] == ["io", "notional: PA"]
    assert page.screenshot("structure-agency.png").stat().st_size > 10_000

    # The class list, filtered by kind from its sidebar.
    page.go(reverse("admin:trusts_securityclass_changelist"))
    page.wait_for("#changelist-filter")
    for kind, expected in (("pac", ["PA"]), ("support", ["S"]), ("accrual", ["Z"]), ("io", ["PX"]),
                           ("standard", ["A", "B", "M"])):
        click_to_next_page(page, page.find(f'#changelist-filter a[href*="kind__exact={kind}"]'))
        assert f"kind__exact={kind}" in page.driver.current_url
        names = sorted(td.text for td in page.find_all("#result_list tbody td.field-name"))
        assert names == expected, (kind, names)
        assert {td.text for td in page.find_all("#result_list tbody td.field-kind")} == {kind}


# ------------------------------------------------------------------ the private-label deal's closes


@pytest.fixture
def private_label_closed():
    """PLS-2026-1 closes February to May; its L204 pays nothing from April."""
    trust = formed(PRIVATE)[PRIVATE]
    numbers = sorted(trust.pool.values_list("loan_id", flat=True))
    installments = {p.loan_id: p.payment_pi_cents + p.escrow_monthly_cents
                    for p in LoanPosition.objects.filter(loan_id__in=numbers)}
    for month in MONTHS:
        for number in numbers:
            if not (number == STOPS and month >= "2026-04"):
                pay(number, Period.parse(month), installments[number])
        close(month, trust=PLS)
    return trust


def closed(period: str):
    return PeriodResult.objects.get(trust__code=PLS, period=period).period_closed


def test_the_report_and_the_statement_show_the_fee_oc_reserve_and_each_trigger_test(page, private_label_closed):
    staff_user("olivia", permissions=("trusts.view_trust", "remittance.view_trustperiod",
                                      "remittance.view_periodresult"))
    page.log_in("olivia")

    # February, the deal's first period: the trustee's fee, the reserve's initial deposit, the 60+ test passed.
    page.go(reverse("admin:remittance_report", args=[PLS, "2026-02"]))
    page.wait_for("#report-deal")
    feb = closed("2026-02")
    assert feb.trustee_fee_paid_cents == 3_333  # 4,000,000.00 x 0.0100% / 12
    fee = next(row for row in cells(page, "#report-fees") if row[0] == "trustee fee")
    assert fee == ["trustee fee", "33.33", "0.00", "33.33", "33.33", "0.00"]
    deal = {row[0]: row[1] for row in cells(page, "#report-deal table:first-of-type")}
    assert deal["over-collateralisation target"] == "60,000.00"  # 1.5% of the cut-off balance
    assert deal["over-collateralisation at the period's end"] == f"{feb.oc_end_cents / 100:,.2f}"
    assert deal["reserve account at the start"] == "0.00"
    assert deal["reserve funded (initial deposit)"] == "25,000.00"
    assert deal["reserve deposit"] == f"{feb.reserve_deposit_cents / 100:,.2f}"
    assert deal["reserve account at the end"] == f"{feb.reserve_balance_end_cents / 100:,.2f}"
    assert cells(page, "#report-deal table.triggers") == [
        ["trigger test", "value (%)", "limit (%)", "result"],
        ["60+ days delinquent (% of the pool)", "0.0000", "8.0000", "passed"]]
    assert page.text("#report-deal .principal-rule") == "sequential"
    assert "Step-down date reached: no; a trigger failure in effect: no" in page.text("#report-deal")

    # May: L204 is 60 days late, above the 8% limit: the test fails and stays in effect (sticky).
    page.go(reverse("admin:remittance_report", args=[PLS, "2026-05"]))
    page.wait_for("#report-deal")
    may = closed("2026-05")
    assert may.triggers.failed and may.trigger_failed
    value = f"{may.triggers.delinquency_60_percent:.4f}"
    assert float(value) > 8
    assert cells(page, "#report-deal table.triggers")[1] == ["60+ days delinquent (% of the pool)", value, "8.0000",
                                                             "FAILED"]
    assert "a trigger failure in effect: yes" in page.text("#report-deal")
    assert page.text("#report-deal .principal-rule") == "sequential"
    page.screenshot("report-private-label-may.png")

    # The distribution statement of May, from the report page: the same figures for certificateholders.
    page.click("#statement-link")
    page.wait_for("#statement-deal")
    tests = {t["test"]: t for t in remittance_report(PLS, "2026-05")["deal"]["triggers"]["tests"]}
    assert set(tests) == {"delinquency_60"}  # the cumulative-loss limits are in force from period 37
    header, fee_and_oc = cells(page, "#statement-deal table:nth-of-type(1)")
    assert dict(zip(header, fee_and_oc)) == {
        "trustee fee due": f"{may.trustee_fee_due_cents / 100:,.2f}",
        "paid": f"{may.trustee_fee_paid_cents / 100:,.2f}", "shortfall": "0.00", "OC target": "60,000.00",
        "OC at end": f"{may.oc_end_cents / 100:,.2f}", "OC release": f"{may.oc_release_cents / 100:,.2f}",
        "turbo principal": f"{may.turbo_principal_cents / 100:,.2f}", "loss absorbed by OC": "0.00"}
    header, reserve = cells(page, "#statement-deal table:nth-of-type(2)")
    assert dict(zip(header, reserve))["reserve at end"] == f"{may.reserve_balance_end_cents / 100:,.2f}"
    assert may.reserve_balance_end_cents > 2_500_000  # the initial deposit and the interest left over since
    assert cells(page, "#statement-deal table.triggers")[1] == ["60+ days delinquent (% of the pool)", value, "8.0000",
                                                                "FAILED"]
    assert page.text("#statement-deal .principal-rule") == "sequential"
    assert page.screenshot("statement-private-label-may.png").stat().st_size > 10_000


# ------------------------------------------------------------------ the clean-up call


def calls() -> int:
    return Event.objects.filter(event_type="CleanUpCallExercised").count()


def show_the_price(page, on: str) -> None:
    page.fill("#id_call_date", on)
    click_to_next_page(page, page.find("input[type=submit][value='Show the price']"))


def test_the_clean_up_call_is_refused_on_a_wrong_date_then_priced_confirmed_and_recorded(page, loans):  # noqa: F811
    paid_down()  # L010 alone left, at 99,900.45: below 10% of the cut-off balance of 1,000,000.00
    trust = Trust.objects.get(code=TRUST)
    staff_user("petra", permissions=MAY_CALL)
    page.log_in("petra")
    page.go(trust_page(trust))
    page.wait_for(".object-tools")
    button = [a for a in page.find_all(".object-tools a") if written(a) == "Exercise the clean-up call"]
    assert len(button) == 1
    button[0].click()
    page.wait_for("#id_call_date")
    assert "Clean-up call of XYZ-2026-1" in page.text("#content")

    for on, why in (("2999-01-01", f"clean-up call 2999-01-01 is in the future (today is {business_time.today()})"),
                    ("2026-01-10", "clean-up call 2026-01-10: the trust's cut-off is 2026-01-15; date the call "
                                   "after it")):
        show_the_price(page, on)
        page.wait_for("#call-refused")
        assert page.text("#call-refused") == f"No call exercised: trust {TRUST}: {why}"
        assert not page.find_all("#call-figures")  # nothing to confirm
        assert page.find("#id_call_date").get_attribute("value") == on  # the date typed is kept to correct
        assert calls() == 0 and not Event.objects.filter(event_type="PoolLoanRemoved").exists()
    page.screenshot("cleanup-call-refused.png")

    show_the_price(page, MAR20.isoformat())
    page.wait_for("#call-figures")
    assert f"Confirm the clean-up call of {TRUST}" in page.text("#content")
    interest = payoff_quote_get(loan_number="L010", as_of=MAR20).interest_cents
    total = f"{(L010_AFTER_FEB + interest) / 100:,.2f}"
    assert dict(row for row in cells(page, "#call-figures")) == {
        "call date": "2026-03-20", "loans bought": "1", "pool balance": "99,900.45",
        "cut-off balance": "1,000,000.00", "call percent": "10%", "principal (par)": "99,900.45",
        "accrued interest": f"{interest / 100:,.2f}", "total price": total}
    assert calls() == 0  # the confirmation page records nothing
    page.screenshot("cleanup-call-confirm.png")

    page.click("input[type=submit][value='Yes, exercise the call']")
    page.wait_for(".messagelist")
    assert page.text(".messagelist").startswith(
        f"Exercised the clean-up call of {TRUST} on 2026-03-20: 1 loan(s) bought for {total}")
    recorded = Event.objects.get(event_type="CleanUpCallExercised")
    assert (recorded.effective_date, recorded.payload["loans"], recorded.acting_user.username) == (MAR20, ["L010"],
                                                                                                  "petra")
    assert not PoolLoan.objects.filter(trust__code=TRUST, removed_on__isnull=True,
                                       loan__position__status="active").exists()
    # The trust's page: its pool has no unpaid balance left, L010 taken out on the call's date; no button any more.
    pool = page.text(".field-pool_panel")
    assert "unpaid balance now 0.00" in pool
    row = next(r for r in cells(page, ".field-pool_panel table") if r[0] == "L010")
    assert row[6] == "2026-03-20"
    assert "Exercise the clean-up call" not in written(page.find(".object-tools"))
    page.screenshot("cleanup-call-exercised.png")


def test_without_the_pool_permission_there_is_no_button_and_the_page_is_refused(page, loans):  # noqa: F811
    paid_down()
    trust = Trust.objects.get(code=TRUST)
    staff_user("clara", permissions=SEES_TRUSTS)
    page.log_in("clara")
    page.go(trust_page(trust))
    page.wait_for(".field-structure_panel")
    assert "when the pool is below 10% of its cut-off balance" in page.text(".field-structure_panel")
    assert "Exercise the clean-up call" not in written(page.find("#content"))
    assert not page.find_all('a[href$="/cleanup-call/"]')
    page.go(reverse("admin:trusts_trust_cleanup_call", args=[trust.pk]))
    wait_until(page, lambda: "Forbidden" in page.text())
    assert not page.find_all("#id_call_date")
    assert calls() == 0
