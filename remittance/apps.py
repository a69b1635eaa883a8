"""App configuration for remittance; registers its projection, the period reconciliation check and the closed-period rule."""
from django.apps import AppConfig


class RemittanceConfig(AppConfig):
    name = "remittance"
    verbose_name = "Remittance"

    def ready(self):
        from ledger.business_time import register_dated_fact_rule
        from ledger.projections import registry
        from ledger.verification import register_check
        from remittance.checks import closed_periods_reconcile
        from remittance.dated_rules import inside_closed_period
        from remittance.projections import RemittanceProjection

        registry.register(RemittanceProjection())
        register_check("every closed period reconciles to the cent", closed_periods_reconcile)
        register_dated_fact_rule("no trust fact inside a closed period", inside_closed_period)
