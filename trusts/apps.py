"""App configuration for trusts; registers the pool and register projections."""
from django.apps import AppConfig


class TrustsConfig(AppConfig):
    name = "trusts"
    verbose_name = "Trusts"

    def ready(self):
        from ledger.projections import registry
        from trusts.projections import PoolProjection, RegisterProjection

        registry.register(PoolProjection())
        registry.register(RegisterProjection())
