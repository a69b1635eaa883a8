"""App configuration for approvals (four-eyes requests for sensitive acts)."""
from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = "Approvals (four eyes)"

    def ready(self):
        from approvals.schedule_admin import schedule_admin_register
        from approvals.services import APPROVE_PERMISSION
        from approvals.staff_groups import staff_groups_ensure
        from ledger.actors import register_approve_permission

        # The services below us (a close, a return) accept a person's act only when approved by a
        # login holding this permission (ledger.actors.four_eyes_problem).
        register_approve_permission(APPROVE_PERMISSION)
        # What the scheduler runs, as the system, is changed only by a login that may approve.
        schedule_admin_register()

        # post_migrate is sent app by app in INSTALLED_APPS order, auth creating each one's permissions
        # first: at our turn every app the groups need (all listed before us) has its permissions.
        post_migrate.connect(staff_groups_ensure, sender=self, dispatch_uid="approvals.staff_groups")
