"""App configuration for remittance; registers its projection and the period reconciliation check."""
from django.apps import AppConfig


class RemittanceConfig(AppConfig):
    name = "remittance"
    verbose_name = "Remittance"

    def ready(self):
        from ledger.projections import registry
        from ledger.verification import register_check
        from remittance.checks import closed_periods_reconcile
        from remittance.projections import RemittanceProjection

        registry.register(RemittanceProjection())
        register_check("every closed period reconciles to the cent", closed_periods_reconcile)
