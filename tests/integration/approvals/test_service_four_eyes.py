"""Four eyes in the services themselves: a close and a return run for an approved request or the system only.

Whoever calls period_close or payment_return (the API, a command, a shell),
a person alone, a self-approval, an approver without the permission, or
nobody at all is refused before anything is written; the system, named by a
SystemActor, needs no approval; an approved pair records both names.
"""
from datetime import date

import pytest

from ledger.actors import (
    RECONCILER,
    SCHEDULER,
    SystemActor,
    database_user,
    describe,
    four_eyes_problem,
    is_person,
    is_system,
)
from ledger.models import Event
from remittance.domain.trust_calendar import Period
from remittance.errors import CloseNotApproved, CloseRefused
from remittance.events import PeriodClosed
from remittance.models import PeriodResult, TrustPeriod
from remittance.services.closing import overdue_periods_close, period_close
from remittance.tasks import close_period_task
from servicing.models import LoanPosition
from servicing.services.payment_requests import PaymentRefused
from servicing.services.payment_returns import payment_return
from tests.integration.remittance.months import pay, pay_everyone, seed_trust
from tests.integration.trusts.deals import TRUST

pytestmark = pytest.mark.django_db
FEBRUARY = Period.parse("2026-02")
MARCH_1 = date(2026, 3, 1)
REFERENCE = "T-2026-02-L001"


@pytest.fixture
def february(loans):
    """The seed's trust, every borrower paid February 2026: its first period, ready to close."""
    seed_trust()
    pay_everyone("2026-02")


def close(**who):
    return period_close(trust_code=TRUST, period=FEBRUARY, as_of=MARCH_1, **who)


def give_back(**who):
    return payment_return(loan_number="L001", reference=REFERENCE, returned_on=date(2026, 2, 5), reason="NSF",
                          **who)


def written() -> tuple[int, int, int]:
    """What a refused act must not have touched: the log, the periods' rows, the results."""
    return Event.objects.count(), TrustPeriod.objects.count(), PeriodResult.objects.count()


# --- The close ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who, reason", [
    ({"acting_user": None}, "it was given neither"),
    ({"acting_user": "clara"}, "asked for by clara without an approval"),
    ({"acting_user": "clara", "approved_by": "clara"}, "asked for and approved by the same login, clara"),
    ({"acting_user": "clara", "approved_by": "jo"}, "approved by jo, who does not hold the approval permission"),
    ({"acting_user": "clara", "approved_by": "scheduler"}, "must be approved by an active staff login"),
    ({"acting_user": "scheduler", "approved_by": "chen"}, "by the system \\(scheduler\\) takes no approval"),
    ({"acting_user": None, "approved_by": "chen"}, "needs the active staff login that asks for it, got nobody"),
])
def test_a_close_without_a_valid_approval_is_refused_and_writes_nothing(february, clara, chen, jo, who, reason):
    people = {"clara": clara, "chen": chen, "jo": jo, "scheduler": SCHEDULER, None: None}
    before = written()
    with pytest.raises(CloseNotApproved, match=reason):
        close(**{role: people[name] for role, name in who.items()})
    assert written() == before


def test_an_inactive_approver_does_not_count(february, clara, chen):
    chen.is_active = False
    chen.save(update_fields=["is_active"])
    with pytest.raises(CloseNotApproved, match="must be approved by an active staff login, got chen"):
        close(acting_user=clara, approved_by=chen)
    assert not TrustPeriod.objects.exists()


def test_a_close_approved_by_another_with_the_permission_runs_and_names_both(february, clara, chen):
    outcome = close(acting_user=clara, approved_by=chen)
    assert outcome.result.period == "2026-02"
    closed = Event.objects.get(event_type="PeriodClosed")
    decided = PeriodClosed.from_payload(closed.payload)
    assert (decided.requested_by, decided.approved_by) == ("clara", "chen")
    assert closed.acting_user == chen and TrustPeriod.objects.get().requested_by == clara


def test_the_system_closes_without_approval_and_is_recorded_as_nobody(february):
    close(acting_user=SCHEDULER)
    closed = Event.objects.get(event_type="PeriodClosed")
    # The log's format is unchanged: the schedule's events have no acting user and name nobody.
    assert closed.acting_user_id is None
    decided = PeriodClosed.from_payload(closed.payload)
    assert (decided.requested_by, decided.approved_by) == (None, None)
    assert TrustPeriod.objects.get().requested_by is None


def test_the_schedules_task_and_the_reconciler_close_as_the_system(february, loans):
    assert close_period_task.apply(args=(TRUST, "2026-02", "2026-03-01")).get()["status"] == "closed"
    assert Event.objects.get(event_type="PeriodClosed").acting_user_id is None
    pay_everyone("2026-03")
    report = overdue_periods_close(today=date(2026, 4, 2))  # March fell due on 2 April
    assert report.closed == [f"{TRUST} 2026-03"] and report.held == []
    assert Event.objects.filter(event_type="PeriodClosed", acting_user__isnull=True).count() == 2


def test_a_close_as_of_a_day_still_to_come_is_refused(february):
    # An as_of in the future would let a period that has not ended close early.
    before = written()
    with pytest.raises(CloseRefused, match="as_of 2099-01-01 is in the future"):
        period_close(trust_code=TRUST, period="2026-02", as_of=date(2099, 1, 1), acting_user=SCHEDULER)
    answer = close_period_task.apply(args=(TRUST, "2026-02", "2099-01-01")).get()
    assert answer["status"] == "refused" and "is in the future" in answer["message"]
    assert written() == before


# --- The return --------------------------------------------------------------------------------------------


@pytest.fixture
def paid(loans):
    pay("L001", FEBRUARY)


@pytest.mark.parametrize("who, reason", [
    ({"acting_user": None}, "it was given neither"),
    ({"acting_user": "clara"}, "asked for by clara without an approval"),
    ({"acting_user": "clara", "requested_by": "clara"}, "asked for and approved by the same login, clara"),
    ({"acting_user": "jo", "requested_by": "clara"}, "approved by jo, who does not hold the approval permission"),
    ({"acting_user": "scheduler", "requested_by": "clara"}, "must be approved by an active staff login"),
])
def test_a_return_without_a_valid_approval_is_refused_and_writes_nothing(paid, clara, chen, jo, who, reason):
    people = {"clara": clara, "chen": chen, "jo": jo, "scheduler": SCHEDULER, None: None}
    events, position = Event.objects.count(), LoanPosition.objects.values().get(loan_id="L001")
    with pytest.raises(PaymentRefused, match=f"loan L001: .*{reason}"):
        give_back(**{role: people[name] for role, name in who.items()})
    assert Event.objects.count() == events
    assert LoanPosition.objects.values().get(loan_id="L001") == position


def test_a_return_approved_by_another_with_the_permission_is_recorded_by_the_approver(paid, clara, chen):
    event = give_back(requested_by=clara, acting_user=chen).event
    assert (event.payload["requested_by"], event.payload["approved_by"]) == ("clara", "chen")
    assert event.acting_user_id == chen.pk


def test_the_system_returns_a_payment_as_nobody(paid):
    event = give_back(acting_user=SystemActor("bank returns feed")).event
    assert event.acting_user_id is None
    assert (event.payload["requested_by"], event.payload["approved_by"]) == (None, None)


# --- The actors themselves ---------------------------------------------------------------------------------


def test_system_actors_are_named_and_are_never_a_login(clara):
    assert is_system(RECONCILER) and not is_person(RECONCILER) and str(RECONCILER) == "system (reconciler)"
    assert is_person(clara) and not is_system(clara) and not is_person(None)
    assert database_user(RECONCILER) is None and database_user(clara) == clara and database_user(None) is None
    assert describe(None) == "nobody" and describe(clara) == "clara"
    with pytest.raises(ValueError, match="a system actor needs a name"):
        SystemActor(" ")


def test_without_a_registered_approval_permission_nobody_approves(clara, chen, monkeypatch):
    monkeypatch.setattr("ledger.actors._approve_permission", [])
    assert "none is registered" in four_eyes_problem(act="the close", acting=clara, approved_by=chen)
    assert four_eyes_problem(act="the close", acting=SCHEDULER) is None
