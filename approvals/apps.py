"""App configuration for approvals (four-eyes requests for sensitive acts)."""
from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = "Approvals (four eyes)"
