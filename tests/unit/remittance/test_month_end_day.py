"""The month-end day: read from the schedule's crontab (remittance.selectors.month_end_schedule), never a constant."""
from __future__ import annotations

from datetime import date

import pytest

from remittance.domain.trust_calendar import Period
from remittance.selectors.month_end_schedule import MonthEndScheduleMissing, first_day_of
from remittance.services.closing import close_due_on


@pytest.mark.parametrize(("day_of_month", "first"), [("2", 2), ("1-3", 1), ("*", 1), ("16,2", 2), ("*/5", 1),
                                                     ("28", 28)])
def test_the_first_day_the_crontab_names(day_of_month, first):
    assert first_day_of(day_of_month) == first


@pytest.mark.parametrize("day_of_month", ["x", "32", "0"])
def test_a_day_of_month_that_is_not_a_day_is_an_error_naming_it(day_of_month):
    with pytest.raises(MonthEndScheduleMissing, match=repr(day_of_month)):
        first_day_of(day_of_month)


def test_a_period_is_due_on_the_schedules_day_of_the_next_month():
    assert close_due_on(Period(2026, 1), 2) == date(2026, 2, 2)
    assert close_due_on(Period(2026, 12), 5) == date(2027, 1, 5)
    # A day February lacks falls on its last day.
    assert close_due_on(Period(2026, 1), 30) == date(2026, 2, 28)
