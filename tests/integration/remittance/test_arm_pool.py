"""An ARM pool: each period's close takes the rate and P&I in force for that period's installments, as the log
stood at the close (a change recorded later is not in an earlier close's facts), by both readers of a close's
facts; the remittance report shows the period's weighted note and net rate; the closes re-derive clean."""
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest

from ledger.business_time import business_day
from ledger.models import Event
from ledger.verification import verify
from remittance import demo_products
from remittance.domain.trust_calendar import Period
from remittance.selectors.group_facts import group_facts
from remittance.selectors.period_facts import log_head, loan_facts, window_for
from remittance.selectors.reports import remittance_report
from remittance.services.closing import period_close
from servicing.models import LoanPosition
from servicing.selectors import terms_in_force
from tests.actors import TESTS
from trusts.models import Trust

pytestmark = pytest.mark.django_db
MONTHS = [date(2026, m, 1) for m in range(2, 9)]  # February to August 2026


def _month_end(month: date) -> date:
    return Period.containing(month).last_day


def _facts(trust: Trust, period: Period) -> tuple[dict, dict]:
    through = log_head()
    single = {f.loan_number: f for f in loan_facts(trust, period, window_for(trust, period, through), scheduled=False)}
    grouped = {f.loan_number: f for f in group_facts([trust], period, through)[trust.pk].loans}
    return single, grouped


def test_an_arm_pools_periods_take_the_rates_in_force_and_the_report_shows_them():
    with business_day(date(2026, 1, 15)):
        demo_products.board_and_form(date(2026, 1, 15))
    trust = Trust.objects.get(code=demo_products.TRUST)
    for month in MONTHS:
        period = Period.containing(month)
        with business_day(_month_end(month)):
            demo_products.run_month(month, _month_end(month))
        with business_day(period.next().first_day):
            single, grouped = _facts(trust, period)
            # P102 changes from its installments due 2026-05-01 (4% -> 5%, the first cap) and 2026-08-01
            # (-> 6%, the periodic cap), each recorded months ahead.
            expected = Decimal("6") if month >= date(2026, 8, 1) else Decimal("5") if month >= date(2026, 5, 1) \
                else Decimal("4")
            assert single["P102"].note_rate == grouped["P102"].note_rate == expected, month
            assert single["P102"].payment_pi_cents == grouped["P102"].payment_pi_cents
            period_close(trust_code=trust.code, period=period, as_of=period.next().first_day, acting_user=TESTS)
    # P101's first change (installment 7, due 2026-08-01): 5.5% -> 7.5%, capped by the first cap.
    august = remittance_report(trust.code, "2026-08")["pool"]
    july = remittance_report(trust.code, "2026-07")["pool"]
    assert july["weighted_note_rate"] != august["weighted_note_rate"]
    with business_day(date(2026, 9, 1)):
        single, _ = _facts(trust, Period.containing(date(2026, 8, 1)))
    assert single["P101"].note_rate == Decimal("7.5") and single["P103"].note_rate == Decimal("6.25")
    begins = {n: single[n].balance_begin_cents for n in demo_products.POOL}
    rates = {"P101": Decimal("7.5"), "P102": Decimal("6"), "P103": Decimal("6.25")}  # P102's second change: 6%
    fees = {"P101": Decimal("0.25"), "P102": Decimal("0.25"), "P103": Decimal("0.375")}
    total = sum(begins.values())
    note = sum(begins[n] * rates[n] for n in begins) / total
    net = note - sum(begins[n] * fees[n] for n in begins) / total - trust.issuer_spread_rate
    places = Decimal("0.0001")
    assert august["weighted_note_rate"] == str(note.quantize(places, rounding=ROUND_HALF_UP))
    assert august["weighted_net_rate"] == str(net.quantize(places, rounding=ROUND_HALF_UP))
    assert LoanPosition.objects.get(loan_id="P101").next_due_date == date(2026, 9, 1)  # caught up in August
    # Read as the log stood before its first change was recorded, P102 has its boarded terms.
    first = Event.objects.filter(stream="loan:P102", event_type="LoanTermsChanged").order_by("position").first()
    assert terms_in_force(["P102"], due_by=date(2026, 5, 31), through_position=first.position - 1) == {}
    assert terms_in_force(["P102"], due_by=date(2026, 5, 31), through_position=first.position) == {
        "P102": (Decimal("5"), first.payload["payment_pi_cents"])}
    report = verify()
    assert report.ok, report.problems[:3]
