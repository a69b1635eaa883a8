"""Delinquency aging by the MBA method and late charges, each recorded once."""
from datetime import date

import pytest
from django.core.management import call_command

from ledger.models import Event
from ledger.projections import differences
from ledger.selectors import account_balance
from ledger.verification import verify
from servicing.domain import accounts
from servicing.models import LoanPosition
from servicing.services.delinquency import loan_days_delinquent, loans_age
from servicing.tasks.delinquency import age_loans_task
from tests.actors import TESTS
from tests.integration.servicing.tapes import board

pytestmark = pytest.mark.django_db
L = "L001"
LATE = 2_998  # 5% of 599.55 = 29.9775, half-up


def position() -> LoanPosition:
    return LoanPosition.objects.get(loan_id=L)


def events(event_type: str) -> list[Event]:
    return list(Event.objects.filter(event_type=event_type).order_by("position"))


def age_twice(day: date):
    first = loans_age(as_of=day, acting_user=TESTS)
    second = loans_age(as_of=day, acting_user=TESTS)
    assert second.bucket_changes == {} and second.late_charges == 0, f"second run on {day} changed something"
    return first


def test_aging_across_months_with_one_late_charge_per_installment():
    board()
    steps = [
        # (day, bucket after, late charges recorded that day)
        (date(2026, 2, 1), "current", 0),
        (date(2026, 2, 16), "current", 0),   # grace runs through the 16th
        (date(2026, 2, 17), "current", 1),
        (date(2026, 2, 27), "current", 0),
        (date(2026, 2, 28), "30", 0),        # MBA: unpaid at the close of the day before the next due date
        (date(2026, 3, 17), "30", 1),
        (date(2026, 3, 31), "60", 0),
        (date(2026, 4, 30), "90+", 1),
        (date(2026, 7, 1), "90+", 2),        # May and June; July is still in grace
    ]
    for day, bucket, charges in steps:
        result = age_twice(day)
        assert result.late_charges == charges, day
        assert position().delinquency_bucket == bucket, day
    changes = [(e.payload["from_bucket"], e.payload["to_bucket"]) for e in events("DelinquencyChanged")]
    assert changes == [("current", "30"), ("30", "60"), ("60", "90+")]
    charges = events("LateChargeAssessed")
    assert [e.idempotency_key for e in charges] == [f"late:L001:2026-0{m}-01" for m in (2, 3, 4, 5, 6)]
    assert all(e.payload["amount_cents"] == LATE for e in charges)
    assert {p.account: p.amount_cents for p in charges[0].postings.all()} == {
        "loan:L001:late_charges": LATE, accounts.LATE_CHARGE_INCOME: -LATE}
    assert position().late_charges_due_cents == 5 * LATE == account_balance("loan:L001:late_charges")
    assert verify().ok and differences() == []


def test_a_first_run_after_months_catches_up_in_one_go():
    board()
    result = loans_age(as_of=date(2026, 4, 30), acting_user=TESTS)
    assert result.bucket_changes == {L: "90+"} and result.late_charges == 3
    assert [e.event_type for e in Event.objects.filter(stream="loan:L001").order_by("version")] == [
        "LoanBoarded", "DelinquencyChanged", "LateChargeAssessed", "LateChargeAssessed", "LateChargeAssessed"]
    assert position().late_charges_due_cents == 3 * LATE


def test_the_task_twice_on_one_day_changes_nothing_the_second_time():
    board()
    first = age_loans_task.apply(kwargs={"as_of": "2026-03-17"}).get()
    second = age_loans_task.apply(kwargs={"as_of": "2026-03-17"}).get()
    assert first == {"as_of": "2026-03-17", "loans_aged": 1, "bucket_changes": {L: "30"}, "late_charges": 2,
                     "late_charges_cents": 2 * LATE}
    assert second == {**first, "bucket_changes": {}, "late_charges": 0, "late_charges_cents": 0}
    assert Event.objects.count() == 4


def test_late_charge_percent_and_grace_come_from_settings(settings):
    settings.SERVICING_LATE_CHARGE_PERCENT = "4"
    settings.SERVICING_GRACE_DAYS = 10
    board()
    assert loans_age(as_of=date(2026, 2, 11), acting_user=TESTS).late_charges == 0
    assert loans_age(as_of=date(2026, 2, 12), acting_user=TESTS).late_charges_cents == 2_398  # 4% of 599.55 = 23.982
    assert events("LateChargeAssessed")[0].payload["rate_percent"] == "4"


def test_a_loan_boarded_delinquent_is_charged_only_for_grace_periods_ending_after_boarding():
    board({"first_payment_date": "2025-06-01", "next_due_date": "2025-11-01"})
    result = loans_age(as_of=date(2026, 1, 20), acting_user=TESTS)
    assert result.bucket_changes == {L: "60"}
    assert [e.payload["due_date"] for e in events("LateChargeAssessed")] == ["2026-01-01"]


def test_days_delinquent_are_computed_on_read():
    board()
    p = position()
    assert loan_days_delinquent(p, date(2026, 1, 20)) == 0
    assert loan_days_delinquent(p, date(2026, 2, 1)) == 0
    assert loan_days_delinquent(p, date(2026, 3, 1)) == 28
    assert loan_days_delinquent(p, date(2026, 6, 1)) == 120


def test_only_active_loans_are_aged():
    from servicing.services.default import foreclosure_start

    board({"loan_number": "L001"}, {"loan_number": "L002"})
    loans_age(as_of=date(2026, 6, 2), acting_user=TESTS)
    foreclosure_start(loan_number="L002", started_on=date(2026, 6, 2), acting_user=TESTS)
    result = loans_age(as_of=date(2026, 8, 1), acting_user=TESTS)
    assert result.loans_aged == 1 and result.late_charges == 2  # L001's June and July; L002 is in foreclosure
    assert LoanPosition.objects.get(loan_id="L002").late_charges_due_cents == 4 * LATE


def test_age_loans_command(capsys):
    board()
    call_command("age_loans", "--as-of", "2026-02-28")
    assert "aged 1 loan(s) as of 2026-02-28: 1 bucket change(s), 1 late charge(s) of 29.98" in capsys.readouterr().out


def test_a_writer_that_got_there_first_makes_aging_read_again_and_retry(monkeypatch):
    import servicing.services.delinquency as service
    from ledger.errors import ConcurrencyConflict

    board()
    real_append, calls = service.append, []

    def append_after_a_rival(**kwargs):
        calls.append(kwargs["expected_version"])
        if len(calls) == 1:  # another writer committed between our read and our append
            raise ConcurrencyConflict(kwargs["stream"], kwargs["expected_version"], kwargs["expected_version"] + 1)
        return real_append(**kwargs)

    monkeypatch.setattr(service, "append", append_after_a_rival)
    assert loans_age(as_of=date(2026, 2, 17), acting_user=TESTS).late_charges == 1
    assert calls == [1, 1] and position().late_charges_due_cents == LATE
