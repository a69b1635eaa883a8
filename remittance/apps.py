"""App configuration for remittance."""
from django.apps import AppConfig


class RemittanceConfig(AppConfig):
    name = "remittance"
