"""App configuration for approvals (four-eyes requests for sensitive acts)."""
from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = "Approvals (four eyes)"

    def ready(self):
        from approvals.staff_groups import staff_groups_ensure

        # post_migrate is sent app by app in INSTALLED_APPS order, auth creating each one's permissions
        # first: at our turn every app the groups need (all listed before us) has its permissions.
        post_migrate.connect(staff_groups_ensure, sender=self, dispatch_uid="approvals.staff_groups")
