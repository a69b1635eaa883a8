"""The month-end schedule: the one source of the day a period's close falls due.

The month-end close runs from a django-celery-beat PeriodicTask (created by
remittance migration 0002 and editable in the admin): its crontab's day of
the month, in the month after a period, is the day that period's close is
due. Whoever needs that day asks here (the reconciler's "overdue", the
dashboard's link); nothing keeps a copy of it, so an operator who moves the
month-end moves every reader with it. A schedule that is missing, or not a
monthly crontab, is an error that names what to restore, never a guess.
"""
from __future__ import annotations

from celery.schedules import ParseException, crontab_parser
from django_celery_beat.models import PeriodicTask

MONTH_END_TASK = "remittance.month_end_close"


class MonthEndScheduleMissing(LookupError):
    """The month-end's periodic task is missing or gives no day of the month (the message says which)."""


def month_end_schedule() -> PeriodicTask | None:
    """The periodic task that runs the month-end close (None if somebody deleted it)."""
    return PeriodicTask.objects.filter(task=MONTH_END_TASK).select_related("crontab").order_by("pk").first()


def month_end_day() -> int:
    """The day of the month the month-end schedule first runs: a period's close is due that day of the next month.

    A crontab may name several days ("2,16", "1-3", "*"): the close is due from the first of them.
    """
    task = month_end_schedule()
    if task is None:
        raise MonthEndScheduleMissing(
            f"no periodic task runs {MONTH_END_TASK}: restore the month-end schedule in the admin "
            "(Periodic tasks; remittance migration 0002 creates it) before asking which closes are due")
    if task.crontab is None:
        raise MonthEndScheduleMissing(
            f"the periodic task {task.name!r} runs {MONTH_END_TASK} without a crontab: give it a monthly "
            "crontab (a day of the month) in the admin")
    return first_day_of(task.crontab.day_of_month, name=task.name)


def first_day_of(day_of_month: str, *, name: str = MONTH_END_TASK) -> int:
    """The first day a crontab's day-of-month field names ("2" -> 2, "1-3" -> 1, "*" -> 1)."""
    try:
        days = crontab_parser(31, 1).parse(str(day_of_month))
    except (ParseException, ValueError) as error:
        raise MonthEndScheduleMissing(f"the periodic task {name!r} has day of month {day_of_month!r}, which is "
                                      f"not a day: {error}") from None
    if not days:
        raise MonthEndScheduleMissing(f"the periodic task {name!r} names no day of the month")
    # A day past 28 does not occur every month: the close is due from it where it exists, else the last day.
    return min(days)
