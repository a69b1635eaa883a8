"""App configuration for the ledger; registers the ledger's own projection."""
from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "ledger"
    verbose_name = "Ledger"

    def ready(self):
        from ledger.projections import AccountBalanceProjection, registry

        registry.register(AccountBalanceProjection())
