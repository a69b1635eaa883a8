"""Rebuild read models from the log."""
from django.core.management.base import BaseCommand, CommandError

from ledger.projections import rebuild, registry


class Command(BaseCommand):
    help = "Empty the read models and replay the whole event log into them, in one transaction."

    def add_arguments(self, parser):
        parser.add_argument("--projection", action="append", help="only this projection (repeatable)")

    def handle(self, *args, **options):
        names = options["projection"]
        try:
            chosen = [registry.get(n) for n in names] if names else list(registry)
        except KeyError as error:
            raise CommandError(f"{error.args[0]}; known: {', '.join(p.name for p in registry)}") from None
        replayed = rebuild(chosen)
        self.stdout.write(
            self.style.SUCCESS(f"rebuilt {', '.join(p.name for p in chosen)} from {replayed} events")
        )
