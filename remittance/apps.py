"""App configuration for remittance: registers its event classes, projection, reconciliation checks and closed-period rule."""
from django.apps import AppConfig


class RemittanceConfig(AppConfig):
    name = "remittance"
    verbose_name = "Remittance"

    def ready(self):
        import remittance.events  # noqa: F401  (registers the close's event classes with ledger.events)
        from ledger.business_time import register_dated_fact_rule
        from ledger.projections import registry
        from ledger.verification import register_check
        from remittance.period_reconciliation import closed_periods_reconcile
        from remittance.dated_rules import RULE_READS, inside_closed_period
        from remittance.selectors.latest_close import class_factor_paid_by
        from remittance.projections import RemittanceProjection
        from remittance.verification import classes_within_pool, closed_periods_rederived, every_cent_in_one_period
        from trusts.selectors import register_paid_factor

        registry.register(RemittanceProjection())
        register_check("every closed period reconciles to the cent", closed_periods_reconcile)
        register_check("every closed period re-derived from the log", closed_periods_rederived)
        register_check("every collected cent in exactly one period of one trust", every_cent_in_one_period)
        register_check("class balances within the pool on deals not over-collateralised", classes_within_pool)
        register_dated_fact_rule("no trust fact inside a closed period", inside_closed_period, reads=RULE_READS)
        # A holding's value on a date reads the factor its class was paid down to by then.
        register_paid_factor(class_factor_paid_by)
