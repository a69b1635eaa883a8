"""App configuration for trusts; registers the pool and register projections."""
from django.apps import AppConfig


class TrustsConfig(AppConfig):
    name = "trusts"
    verbose_name = "Trusts"

    def ready(self):
        from ledger.projections import registry
        from ledger.verification import register_check
        from trusts.projections import PoolProjection, RegisterProjection
        from trusts.verification import cutoff_balances_hold

        registry.register(PoolProjection())
        registry.register(RegisterProjection())
        register_check("pool cut-off balances still equal the ledger at the cut-off", cutoff_balances_hold)
