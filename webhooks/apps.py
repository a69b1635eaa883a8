"""App configuration for webhooks: told of every committed close (remittance.close_announcements)."""
from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self):
        from remittance.close_announcements import register_close_listener
        from webhooks.services import deliveries_for_closes

        # After a close commits (never inside it, never on a rebuild of the projections): the deliveries it owes.
        register_close_listener(deliveries_for_closes)
