"""The month-end day is the schedule's: edit the crontab and every reader moves; delete it and they say so."""
from datetime import date

import pytest
from django_celery_beat.models import PeriodicTask

from remittance.domain.trust_calendar import Period
from remittance.selectors.month_end_schedule import MONTH_END_TASK, MonthEndScheduleMissing, month_end_day
from remittance.services.closing import close_due_on, overdue_periods_close, periods_overdue
from tests.integration.remittance.months import seed_trust
from tests.integration.trusts.deals import TRUST

pytestmark = pytest.mark.django_db
FEBRUARY = Period(2026, 2)


def _month_end() -> PeriodicTask:
    return PeriodicTask.objects.select_related("crontab").get(task=MONTH_END_TASK)


def test_the_day_is_the_crontabs_and_moves_when_an_operator_edits_it(loans):
    seed_trust()
    assert month_end_day() == 2  # remittance migration 0002's schedule
    assert close_due_on(FEBRUARY) == date(2026, 3, 2)
    assert periods_overdue(date(2026, 3, 2)) == [(TRUST, FEBRUARY)]
    crontab = _month_end().crontab
    crontab.day_of_month = "5"
    crontab.save()
    assert month_end_day() == 5 and close_due_on(FEBRUARY) == date(2026, 3, 5)
    assert periods_overdue(date(2026, 3, 4)) == []
    assert periods_overdue(date(2026, 3, 5)) == [(TRUST, FEBRUARY)]


def test_without_the_schedule_nothing_guesses_the_day(loans):
    seed_trust()
    _month_end().delete()
    with pytest.raises(MonthEndScheduleMissing, match="no periodic task runs remittance.month_end_close"):
        periods_overdue(date(2026, 3, 2))
    with pytest.raises(MonthEndScheduleMissing, match="restore the month-end schedule"):
        overdue_periods_close(today=date(2026, 3, 2))


def test_a_schedule_without_a_crontab_is_named(loans):
    from django_celery_beat.models import IntervalSchedule

    task = _month_end()
    task.crontab = None
    task.interval = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.DAYS)
    task.save()
    with pytest.raises(MonthEndScheduleMissing, match="without a crontab"):
        month_end_day()
