"""The schedule in the admin: operations staff move its timing, only a login that may approve changes what runs.

The month-end periodic task runs a close as the system, with no approval;
so its task, arguments and enabling are an approver's to change, and the
arguments must fit the task (no as_of after today, no period not ended, no
requester or approver, only the project's own schedulable tasks).
"""
from datetime import date

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from approvals.schedule import ScheduleRefused, schedule_entry_check
from approvals.schedule_admin import GuardedPeriodicTaskAdmin
from approvals.staff_groups import APPROVERS, OPERATIONS, staff_groups_ensure
from ledger.business_time import business_day

pytestmark = pytest.mark.django_db
MONTH_END = "Month-end close of every trust"
TODAY = date(2026, 5, 15)


@pytest.fixture(autouse=True)
def _business_day():
    with business_day(TODAY):
        yield


@pytest.fixture(autouse=True)
def _month_end_schedule(db):
    """The month-end's row as remittance migration 0002 makes it (a transactional test may have flushed it)."""
    crontab, _ = CrontabSchedule.objects.get_or_create(minute="0", hour="3", day_of_week="*", day_of_month="2",
                                                       month_of_year="*", timezone="America/New_York")
    PeriodicTask.objects.get_or_create(name=MONTH_END, defaults={"task": "remittance.month_end_close",
                                                                 "crontab": crontab, "enabled": True})


def staff(username: str, *groups: str) -> Client:
    user = User.objects.create_user(username, password=f"{username}-password-1", is_staff=True)
    staff_groups_ensure()  # the groups as every migrate leaves them
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def olga(db):
    """Operations staff: edits the schedule's timing, may not approve."""
    return staff("olga", OPERATIONS)


@pytest.fixture
def sam(db):
    """A supervisor: operations and approvers."""
    return staff("sam", OPERATIONS, APPROVERS)


def month_end() -> PeriodicTask:
    return PeriodicTask.objects.get(name=MONTH_END)


def change_url() -> str:
    return reverse("admin:django_celery_beat_periodictask_change", args=[month_end().pk])


def as_shown(client: Client) -> dict:
    """The change form's data as the page shows it, ready to POST back (what a browser would send)."""
    form = client.get(change_url()).context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = value
    return data


def row() -> tuple:
    task = month_end()
    return task.name, task.task, task.args, task.kwargs, task.enabled, task.crontab_id, task.description


def test_the_guarded_admin_replaces_the_librarys():
    from django.contrib import admin

    assert isinstance(admin.site._registry[PeriodicTask], GuardedPeriodicTaskAdmin)


def test_operations_see_only_the_timing_as_a_form(olga):
    page = olga.get(change_url())
    assert page.status_code == 200
    assert set(page.context["adminform"].form.fields) == {"description", "interval", "crontab", "solar", "clocked",
                                                          "start_time"}
    assert "remittance.month_end_close" in page.content.decode()  # shown, read only


def test_operations_move_the_timing_and_nothing_else(olga):
    before = row()
    response = olga.post(change_url(), {**as_shown(olga), "description": "moved to the 3rd after the holiday"})
    assert response.status_code == 302, response.content
    after = row()
    assert after[-1] == "moved to the 3rd after the holiday" and after[:-1] == before[:-1]


@pytest.mark.parametrize("change", [
    {"task": "remittance.close_period", "args": '["XYZ-2026-1", "2026-05"]'},
    {"args": '["2026-04", "2099-01-01"]'},
    {"kwargs": '{"as_of": "2099-01-01"}'},
    {"regtask": "servicing.age_loans"},
    {"enabled": ""},
    {"name": "renamed"},
    {"queue": "nowhere"},
])
def test_operations_cannot_change_what_runs(olga, change):
    before = row()
    response = olga.post(change_url(), {**as_shown(olga), **change})
    assert response.status_code == 403
    assert row() == before


def test_operations_cannot_add_delete_run_or_switch_schedules(olga):
    assert olga.get(reverse("admin:django_celery_beat_periodictask_add")).status_code == 403
    delete = reverse("admin:django_celery_beat_periodictask_delete", args=[month_end().pk])
    assert olga.post(delete, {"post": "yes"}).status_code == 403
    changelist = olga.get(reverse("admin:django_celery_beat_periodictask_changelist"))
    action_form = changelist.context["action_form"]  # None when no action is left at all
    actions = {name for name, _ in action_form.fields["action"].choices} if action_form else set()
    assert not actions & {"run_tasks", "enable_tasks", "disable_tasks", "toggle_tasks"}
    response = olga.post(reverse("admin:django_celery_beat_periodictask_changelist"),
                         {"action": "disable_tasks", "_selected_action": [month_end().pk]})
    assert response.status_code in (200, 302) and month_end().enabled  # "no action selected"


def test_an_approver_changes_what_runs_within_the_rules(sam):
    response = sam.post(change_url(), {**as_shown(sam), "kwargs": '{"period": "2026-04", "as_of": "2026-05-02"}'})
    assert response.status_code == 302, response.content
    assert month_end().kwargs == '{"period": "2026-04", "as_of": "2026-05-02"}'
    data = as_shown(sam)
    data.pop("enabled")
    assert sam.post(change_url(), data).status_code == 302 and not month_end().enabled


@pytest.mark.parametrize("change, error", [
    ({"kwargs": '{"as_of": "2026-05-16"}'}, "as_of 2026-05-16 is in the future (today is 2026-05-15)"),
    ({"args": '["2026-05"]'}, "period 2026-05 has not ended"),
    ({"task": "os.system", "args": '["rm -rf /"]'}, "&#x27;os.system&#x27; is not a task of this project"),
    ({"task": "approvals.record_close_outcome", "args": '[{}, 1]'}, "may not be scheduled"),
    ({"task": "celery.backend_cleanup"}, "may not be scheduled"),
    ({"task": "remittance.close_period", "args": '["XYZ-2026-1", "2026-04"]', "kwargs": '{"approved_by": 1}'},
     "names no requester or approver"),
    ({"args": '["2026-04", "2026-05-01", "extra"]'}, "these arguments do not fit"),
    ({"kwargs": '["not", "an", "object"]'}, "must be a JSON object"),
])
def test_an_approver_cannot_schedule_what_the_rules_refuse(sam, change, error):
    before = row()
    response = sam.post(change_url(), {**as_shown(sam), **change})
    assert response.status_code == 200  # the form again, with the reason
    assert error in response.content.decode()
    assert row() == before


@pytest.mark.parametrize("task, args, kwargs, error", [
    ("remittance.close_due_periods", "[]", '{"as_of": "tomorrow"}', "'tomorrow' is not a date"),
    ("remittance.close_period", '["NOPE", "2026-04"]', "{}", "trust_code 'NOPE': there is no such trust"),
    ("remittance.close_trusts", '["2026-13"]', "{}", "period '2026-13'"),
    ("remittance.close_period", "[]", '{"trust_code": "X", "period": "2026-04", "requested_by": 3}',
     "requested_by 3: a schedule runs as the system"),
    ("servicing.age_loans", '["2026-06-01"]', "{}", "is in the future"),
    ("ledger.verify_ledger", '["anything"]', "{}", "do not fit"),
])
def test_the_rules_for_each_argument(task, args, kwargs, error):
    with pytest.raises(ScheduleRefused, match=error.replace("(", r"\(").replace(")", r"\)")):
        schedule_entry_check(task, args, kwargs)


def test_the_projects_schedules_pass_the_rules():
    for task in PeriodicTask.objects.all():
        schedule_entry_check(task.task, task.args, task.kwargs)
    schedule_entry_check("remittance.month_end_close", '["2026-04"]', '{"as_of": "2026-05-15"}')
    schedule_entry_check("servicing.age_loans", "[]", "{}")
