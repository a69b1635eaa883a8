"""App configuration for trusts; registers the pool and register projections and the cut-off rule for loan facts."""
from django.apps import AppConfig


class TrustsConfig(AppConfig):
    name = "trusts"
    verbose_name = "Trusts"

    def ready(self):
        from ledger.business_time import register_dated_fact_rule
        from ledger.projections import registry
        from ledger.verification import register_check
        from trusts.dated_rules import before_current_cutoff
        from trusts.projections import PoolProjection, RegisterProjection
        from trusts.verification import cutoff_balances_hold

        registry.register(PoolProjection())
        registry.register(RegisterProjection())
        register_check("pool cut-off balances still equal the ledger at the cut-off", cutoff_balances_hold)
        register_dated_fact_rule("money on or before the loan's trust's cut-off is the seller's",
                                 before_current_cutoff)
