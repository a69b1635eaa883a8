"""The analytics app: projections, measures and realized speeds (no models of its own)."""
from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = "Analytics"
