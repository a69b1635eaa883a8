"""The periodic tasks' admin (django-celery-beat), guarded: see `approvals.schedule` for the rules.

Replaces the library's registration (from ApprovalsConfig.ready()). Thin:
who may change what runs and which tasks and arguments may run are
`approvals.schedule`'s. For a login that may approve, the usual page, whose
form refuses a task or arguments the schedule may not run. For everyone else
(operations staff), a page where only the timing is a form field and the rest
is shown read only; a POST that tries to set any of the rest anyway is
refused (403), as are adding, deleting, enabling, disabling and running now.
"""
from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django_celery_beat.admin import PeriodicTaskAdmin, PeriodicTaskForm
from django_celery_beat.models import PeriodicTask

from approvals.schedule import TIMING_FIELDS, ScheduleRefused, may_change_what_runs, schedule_entry_check

# Everything on a periodic task that decides what runs, and whether, and where: the approvers'.
WHAT_RUNS = ("name", "regtask", "task", "enabled", "one_off", "args", "kwargs", "expires", "expire_seconds",
             "queue", "exchange", "routing_key", "priority", "headers")
RUN_ACTIONS = ("enable_tasks", "disable_tasks", "toggle_tasks", "run_tasks")


class ScheduleForm(PeriodicTaskForm):
    """The library's form, plus the schedule's rules on the task and its arguments."""

    def clean(self):
        data = super().clean()
        if not {"task", "args", "kwargs"} & set(self.errors):  # each already says what is wrong with it
            try:
                schedule_entry_check(data.get("task"), data.get("args"), data.get("kwargs"))
            except ScheduleRefused as refused:
                raise forms.ValidationError(str(refused)) from None
        return data


class TimingForm(forms.ModelForm):
    """Operations staff's form: when the task runs, never what it runs."""

    class Meta:
        model = PeriodicTask
        fields = TIMING_FIELDS


class GuardedPeriodicTaskAdmin(PeriodicTaskAdmin):
    form = ScheduleForm

    def _may(self, request) -> bool:
        return may_change_what_runs(request.user)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if not self._may(request):
            kwargs["form"] = TimingForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if self._may(request):
            return fieldsets
        # regtask is a form-only field (no model field to show read only): left out.
        return [(title, {**options, "fields": tuple(f for f in options["fields"] if f != "regtask")})
                for title, options in fieldsets]

    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        if self._may(request):
            return readonly
        return readonly + tuple(f for f in WHAT_RUNS if f != "regtask" and f not in readonly)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST" and not self._may(request) and set(WHAT_RUNS) & set(request.POST):
            # The form would ignore them; refusing says so instead of saving something else quietly.
            raise PermissionDenied("only a login with approval permission may change what a schedule runs")
        return super().changeform_view(request, object_id, form_url, extra_context)

    def has_add_permission(self, request):
        return super().has_add_permission(request) and self._may(request)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._may(request)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self._may(request):
            for name in RUN_ACTIONS:
                actions.pop(name, None)
        return actions


def schedule_admin_register(site: admin.AdminSite = admin.site) -> None:
    """Put the guarded admin in place of django-celery-beat's own (idempotent)."""
    if isinstance(site._registry.get(PeriodicTask), GuardedPeriodicTaskAdmin):
        return
    if site.is_registered(PeriodicTask):
        site.unregister(PeriodicTask)
    site.register(PeriodicTask, GuardedPeriodicTaskAdmin)
