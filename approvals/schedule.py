"""The schedule's rules: which task a periodic task may run, with which arguments, and who may say so.

django-celery-beat runs whatever task name and arguments its `PeriodicTask`
rows hold, as the system: a close it runs needs nobody's approval. So what a
row runs is itself a four-eyes matter:
- Only a login that may approve (`ledger.actors.may_approve`: the approvals
  permission) changes a row's task, arguments, name, enabling or execution
  options, adds or deletes one, or runs one now. Operations staff keep the
  timing (which crontab, interval or clock, the start time) and the
  description: moving the month-end by a day is theirs, what it does is not.
- The task is one of the project's own, registered with Celery, from an app
  whose tasks may be scheduled (not the approvals' callbacks, which settle a
  request; not Celery's or a library's).
- The arguments bind to the task's signature, and each one has a rule by
  name: an as_of is a date not after today, a period has ended, a trust
  exists. A schedule names no requester or approver: an approval cannot be
  scheduled. A parameter without a rule cannot be set from a schedule.

`schedule_entry_check` is what the admin form calls (approvals.schedule_admin).
"""
from __future__ import annotations

import inspect
import json
from collections.abc import Callable

from ledger.actors import may_approve
from ledger.business_time import BusinessDateError, parse_as_of, today
from remittance.domain.trust_calendar import Period
from trusts.models import Trust

# Apps whose Celery tasks a schedule may run. approvals' tasks are the close's callbacks.
SCHEDULABLE_APPS = ("ledger", "servicing", "trusts", "remittance", "analytics", "api")

# What operations staff (no approval permission) may still change on a periodic task: its timing.
TIMING_FIELDS = ("description", "interval", "crontab", "solar", "clocked", "start_time")


class ScheduleRefused(ValueError):
    """A periodic task's task or arguments the schedule may not run; the message says which and why."""


def may_change_what_runs(user) -> bool:
    """Whether the login may change what a periodic task runs (task, arguments, enabling, ...)."""
    return may_approve(user)


# --- Arguments ---------------------------------------------------------------------------------------------


def _as_of(value) -> None:
    if value is not None:
        parse_as_of(value, what="as_of")  # BusinessDateError names the date and today


def _period(value) -> None:
    if value is None:
        return
    try:
        period = Period.parse(value)
    except (TypeError, ValueError) as error:
        raise ScheduleRefused(f"period {value!r}: {error}") from None
    if period.last_day >= today():
        raise ScheduleRefused(f"period {period} has not ended (its last day is {period.last_day.isoformat()}, "
                              f"today is {today().isoformat()}): a schedule never works on days still to come")


def _trust_code(value) -> None:
    if not isinstance(value, str) or not Trust.objects.filter(code=value).exists():
        raise ScheduleRefused(f"trust_code {value!r}: there is no such trust")


def _never(name: str) -> Callable[[object], None]:
    def refuse(value) -> None:
        raise ScheduleRefused(f"{name} {value!r}: a schedule runs as the system and names no requester or "
                              "approver; a person's close goes through an approval request")
    return refuse


ARGUMENT_RULES: dict[str, Callable[[object], None]] = {
    "as_of": _as_of,
    "period": _period,
    "trust_code": _trust_code,
    "requested_by": _never("requested_by"),
    "approved_by": _never("approved_by"),
}


# --- The check ---------------------------------------------------------------------------------------------


def schedule_entry_check(task_name: str, args_json: str, kwargs_json: str, *, tasks=None) -> None:
    """Refuse (ScheduleRefused) a periodic task whose task or arguments the schedule may not run.

    task_name is the Celery task's registered name; args_json and kwargs_json the row's JSON
    text (a list, an object). tasks is Celery's task registry (default: the project's app's).
    """
    task = _schedulable_task(task_name, tasks)
    args, kwargs = _arguments(args_json, kwargs_json)
    run = inspect.signature(task.run)
    try:
        bound = run.bind(*args, **kwargs)
    except TypeError as error:
        raise ScheduleRefused(f"{task_name} takes ({_parameters(run)}); these arguments do not fit: {error}") from None
    # A requester or approver is refused first: the worst thing a schedule row can try.
    for name in sorted(bound.arguments, key=lambda n: n not in ("requested_by", "approved_by")):
        value, rule = bound.arguments[name], ARGUMENT_RULES.get(name)
        if rule is None:
            raise ScheduleRefused(f"{task_name}: its argument {name!r} cannot be set from a schedule")
        try:
            rule(value)
        except BusinessDateError as error:
            raise ScheduleRefused(f"{task_name}: {error}") from None


def _schedulable_task(task_name: str, tasks):
    if not isinstance(task_name, str) or not task_name.strip():
        raise ScheduleRefused("name the task to run")
    registry = tasks if tasks is not None else _registry()
    task = registry.get(task_name)
    if task is None:
        raise ScheduleRefused(f"{task_name!r} is not a task of this project (no such registered task)")
    if task_name.partition(".")[0] not in SCHEDULABLE_APPS:
        raise ScheduleRefused(f"{task_name!r} may not be scheduled: only the tasks of "
                              f"{', '.join(SCHEDULABLE_APPS)} run on a schedule")
    return task


def _registry():
    from celery import current_app

    current_app.loader.import_default_modules()  # every app's tasks module, as the worker and beat see them
    return current_app.tasks


def _arguments(args_json: str, kwargs_json: str) -> tuple[list, dict]:
    try:
        args = json.loads(args_json or "[]")
        kwargs = json.loads(kwargs_json or "{}")
    except (TypeError, ValueError) as error:
        raise ScheduleRefused(f"the arguments are not JSON: {error}") from None
    if not isinstance(args, list):
        raise ScheduleRefused(f"the positional arguments must be a JSON list, got {args_json!r}")
    if not isinstance(kwargs, dict):
        raise ScheduleRefused(f"the keyword arguments must be a JSON object, got {kwargs_json!r}")
    return args, kwargs


def _parameters(signature: inspect.Signature) -> str:
    return ", ".join(name for name in signature.parameters) or "no arguments"
