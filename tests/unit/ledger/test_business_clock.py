"""The business clock: one today(), fixed only by business_day() or BUSINESS_DATE, and the dated-fact rule."""
import threading
from datetime import date, datetime

import pytest
from django.test import override_settings
from django.utils import timezone

from ledger import business_time
from ledger.business_time import (
    BusinessDateError, DatedFact, business_day, dated_fact_check, dated_facts_problems, dated_rule_reads,
    dated_rules_moved, parse_as_of, register_dated_fact_rule, require_not_future, today,
)


def test_today_follows_the_wall_clock_unless_fixed():
    assert today() == timezone.localdate()
    with business_day(date(2026, 3, 1)):
        assert today() == date(2026, 3, 1)
        with business_day(date(2026, 4, 1)):
            assert today() == date(2026, 4, 1)
        assert today() == date(2026, 3, 1)
    assert today() == timezone.localdate()


def test_a_fixed_day_is_seen_by_its_own_thread_only_unless_fixed_for_all():
    seen = {}

    def look(name):
        seen[name] = today()

    with business_day(date(2026, 3, 1)):
        worker = threading.Thread(target=look, args=("thread",))
        worker.start()
        worker.join()
    assert seen["thread"] == timezone.localdate()
    with business_day(date(2026, 3, 1), all_threads=True):
        worker = threading.Thread(target=look, args=("all",))
        worker.start()
        worker.join()
    assert seen["all"] == date(2026, 3, 1)
    assert today() == timezone.localdate()


def test_the_setting_fixes_the_clock_for_a_process():
    with override_settings(BUSINESS_DATE="2026-05-31"):
        assert today() == date(2026, 5, 31)
        with business_day(date(2026, 6, 1)):
            assert today() == date(2026, 6, 1)


def test_business_day_takes_only_a_date():
    with pytest.raises(TypeError):
        with business_day(datetime(2026, 3, 1, 12, 0)):
            pass


def test_future_dates_and_non_dates_are_refused_naming_what():
    with business_day(date(2026, 3, 1)):
        assert require_not_future("received on", date(2026, 3, 1)) == date(2026, 3, 1)
        with pytest.raises(BusinessDateError, match=r"^received on 2026-03-02 is in the future \(today is 2026-03-01\)$"):
            require_not_future("received on", date(2026, 3, 2))
        with pytest.raises(BusinessDateError, match="received on must be a date"):
            require_not_future("received on", "2026-03-01")
        with pytest.raises(BusinessDateError, match="must be a date"):
            require_not_future("received on", datetime(2026, 2, 1, 9, 0))


def test_as_of_defaults_to_today_and_refuses_the_future_and_nonsense():
    with business_day(date(2026, 3, 1)):
        assert parse_as_of(None) == date(2026, 3, 1)
        assert parse_as_of("2026-02-28") == date(2026, 2, 28)
        with pytest.raises(BusinessDateError, match=r"^--as-of 2026-03-02 is in the future"):
            parse_as_of("2026-03-02")
        with pytest.raises(BusinessDateError, match=r"^--as-of '2026-02-30' is not a date"):
            parse_as_of("2026-02-30")


def test_registered_rules_are_applied_to_every_dated_fact(monkeypatch):
    monkeypatch.setattr(business_time, "_rules", [])
    monkeypatch.setattr(business_time, "_reads", {})
    register_dated_fact_rule("no Sundays", lambda fact: "is a Sunday" if fact.on.weekday() == 6 else None)
    register_dated_fact_rule("no Sundays", lambda fact: "registered twice")  # once per name
    with business_day(date(2026, 3, 31)):
        assert dated_fact_check(DatedFact("payment received", date(2026, 3, 2), loan_number="L1")) == date(2026, 3, 2)
        with pytest.raises(BusinessDateError, match=r"^loan L1: payment received 2026-03-01: is a Sunday$"):
            dated_fact_check(DatedFact("payment received", date(2026, 3, 1), loan_number="L1"))
        with pytest.raises(BusinessDateError, match=r"^trust T1: removal 2026-04-01 is in the future"):
            dated_fact_check(DatedFact("removal", date(2026, 4, 1), trust_code="T1"))


def test_the_events_the_registered_rules_depend_on_are_those_writing_what_they_read():
    """A payment checked without the log's lock is checked again under it when one of these was recorded since:
    a loan boarded (its boarding day), a trust formed or its pool changed (a cut-off, a removal), a period closed."""
    trusts = {"TrustFormed", "HolderRegistered", "HolderDetailsChanged"}  # the trust's code
    assert dated_rule_reads() == {
        "not before the loan was boarded": {"LoanBoarded", "EscrowItemAdded"},  # the loan's boarded_on
        "money on or before the loan's trust's cut-off is the seller's":
            {"PoolLoansTransferred", "PoolLoanRemoved"} | trusts,  # the pool's memberships
        "no trust fact inside a closed period": {"PeriodClosed", "ClassDistributed", "DistributionPaid"} | trusts,
    }


def test_a_rule_that_does_not_say_what_it_reads_is_asked_again_after_any_event(monkeypatch):
    monkeypatch.setattr(business_time, "_rules", [])
    monkeypatch.setattr(business_time, "_reads", {})
    register_dated_fact_rule("reads nothing kept", lambda fact: None, reads=())
    assert dated_rule_reads() == {"reads nothing kept": frozenset()}
    assert dated_rules_moved(5, 6) == set()  # nothing it depends on: no query, nothing to ask again
    register_dated_fact_rule("unsaid", lambda fact: None)
    assert dated_rule_reads()["unsaid"] is None
    assert dated_rules_moved(5, 5) == set()  # nothing recorded since the check (and no query)
    assert dated_rules_moved(5, 6) == {"unsaid"}


def test_a_rule_reading_a_table_no_projection_keeps_is_asked_again_after_any_event(monkeypatch):
    from django.contrib.auth import get_user_model

    monkeypatch.setattr(business_time, "_rules", [])
    monkeypatch.setattr(business_time, "_reads", {})
    register_dated_fact_rule("reads logins", lambda fact: None, reads=(get_user_model(),))
    assert dated_rule_reads() == {"reads logins": None}


def test_facts_asked_again_of_some_rules_only(monkeypatch):
    monkeypatch.setattr(business_time, "_rules", [])
    monkeypatch.setattr(business_time, "_reads", {})
    register_dated_fact_rule("no Sundays", lambda fact: "is a Sunday" if fact.on.weekday() == 6 else None)
    register_dated_fact_rule("no firsts", lambda fact: "is a first" if fact.on.day == 1 else None)
    sunday_the_first = DatedFact("payment received", date(2026, 3, 1), loan_number="L1")
    with business_day(date(2026, 3, 31)):
        assert dated_facts_problems([sunday_the_first]) == ["loan L1: payment received 2026-03-01: is a Sunday"]
        assert dated_facts_problems([sunday_the_first], only={"no firsts"}) == [
            "loan L1: payment received 2026-03-01: is a first"]
        assert dated_facts_problems([sunday_the_first], only=set()) == [None]


class Refused(Exception):
    """A writer's own refusal, as checked_fact raises it."""


def test_a_checked_fact_is_asked_again_under_the_lock_only_when_something_was_recorded_since(monkeypatch):
    """`checked_fact` reads the log's position first; `still_holds`, given the last position under the lock,
    asks the rules again only if an event was recorded since, refusing as the first check would."""
    monkeypatch.setattr(business_time, "_rules", [])
    monkeypatch.setattr(business_time, "_reads", {})
    monkeypatch.setattr(business_time, "last_recorded_position", lambda: 7)
    blocked: list[str] = []
    register_dated_fact_rule("not while blocked", lambda fact: blocked[0] if blocked else None)  # reads anything
    fact = DatedFact("liquidation", date(2026, 3, 2), loan_number="L1")
    with business_day(date(2026, 3, 31)):
        checked = business_time.checked_fact(fact, refused=Refused)
        assert (checked.as_of, checked.on) == (7, date(2026, 3, 2))
        blocked.append("went into a trust meanwhile")
        checked.still_holds(7)  # nothing recorded since the check: its answer stands
        with pytest.raises(Refused) as again:
            checked.still_holds(8)
        with pytest.raises(Refused) as first:
            business_time.checked_fact(fact, refused=Refused)
        assert str(again.value) == str(first.value) == "loan L1: liquidation 2026-03-02: went into a trust meanwhile"
        with pytest.raises(BusinessDateError, match="^loan L1: liquidation 2026-03-02: went into a trust"):
            business_time.checked_fact(fact)  # no refusal of its own: the rule's error


def test_no_code_but_the_clock_asks_the_wall_clock_for_today():
    """One authority for business time: the apps ask ledger.business_time, never the wall clock directly.

    (The benchmark's report may stamp the real date of the run: it records when it was measured.)
    """
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    asks = re.compile(r"timezone\.localdate\b|\bdate\.today\(\)")
    allowed = {root / "ledger" / "business_time.py", root / "benchmarks" / "run.py"}
    found = [f"{path.relative_to(root)}:{number}"
             for app in ("config", "ledger", "servicing", "trusts", "remittance", "api", "analytics", "approvals",
                         "benchmarks")
             for path in sorted((root / app).rglob("*.py")) if path not in allowed
             for number, line in enumerate(path.read_text().splitlines(), 1) if asks.search(line)]
    assert found == []
