"""App configuration for trusts; registers the pool and register projections and the holder-login guard."""
from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import pre_delete


class TrustsConfig(AppConfig):
    name = "trusts"
    verbose_name = "Trusts"

    def ready(self):
        from ledger.projections import registry
        from trusts.projections import PoolProjection, RegisterProjection
        from trusts.signals import refuse_deleting_a_holders_login

        registry.register(PoolProjection())
        registry.register(RegisterProjection())
        # A login linked to a holder is not deleted (which would unlink the holder unrecorded).
        pre_delete.connect(refuse_deleting_a_holders_login, sender=settings.AUTH_USER_MODEL,
                           dispatch_uid="trusts.refuse_deleting_a_holders_login")
