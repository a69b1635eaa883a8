"""App configuration for the ledger; registers the ledger's own projection and its deploy check."""
from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "ledger"
    verbose_name = "Ledger"

    def ready(self):
        from ledger import deploy_checks as checks  # noqa: F401  (registers the runtime-role deploy check)
        from ledger.projections import AccountBalanceProjection, registry

        registry.register(AccountBalanceProjection())
