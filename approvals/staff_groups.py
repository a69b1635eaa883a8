"""The staff's two standing groups and what each may do in the admin.

- "operations": the daily work. Views everything; boards loans, imports
  payment files and runs escrow analyses (change loan), transfers holdings,
  edits holders' details, deactivates webhook subscriptions and replays
  deliveries, asks for closes and reversals, and moves the schedules'
  timing (what a periodic task runs is the approvers': approvals.schedule).
  It cannot approve.
- "approvers": may approve or reject another staff member's request. A
  supervisor is in both groups; four eyes still holds, because nobody may
  decide their own request (approvals.services).

Kept in step after every migrate (post_migrate), so a new model's view
permission reaches the operations group without a data migration.
Permissions granted by hand to a group are left alone: this only adds.
"""
from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

OPERATIONS = "operations"  # also the API's operations role (api.access.OPERATIONS_GROUP)
APPROVERS = "approvers"

VIEW_APPS = ("ledger", "servicing", "trusts", "remittance", "approvals", "webhooks", "django_celery_beat")
OPERATIONS_ACTS = (
    "servicing.add_loan", "servicing.change_loan", "trusts.add_holdingmovement", "trusts.change_holder",
    "webhooks.change_subscription", "webhooks.change_delivery",  # deactivate a subscription, replay a delivery
    "approvals.add_approvalrequest", "django_celery_beat.change_periodictask",
    "django_celery_beat.add_crontabschedule", "django_celery_beat.change_crontabschedule",
)
APPROVER_ACTS = ("approvals.approve_request", "approvals.view_approvalrequest")


def staff_groups_ensure(**_signal) -> None:
    """Create the groups if missing and give them their permissions (additive, idempotent)."""
    operations, _ = Group.objects.get_or_create(name=OPERATIONS)
    views = Permission.objects.filter(content_type__app_label__in=VIEW_APPS, codename__startswith="view_")
    operations.permissions.add(*views, *_permissions(OPERATIONS_ACTS))
    approvers, _ = Group.objects.get_or_create(name=APPROVERS)
    approvers.permissions.add(*_permissions(APPROVER_ACTS))


def _permissions(names: tuple[str, ...]):
    match = Q(pk__in=[])
    for name in names:
        app_label, codename = name.split(".")
        match |= Q(content_type__app_label=app_label, codename=codename)
    return Permission.objects.filter(match)
