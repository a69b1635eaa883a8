"""Prove the ledger whole: every hash chain, every zero sum, every read model."""
from django.core.management.base import BaseCommand, CommandError

from ledger.verification import verify


class Command(BaseCommand):
    help = "Check every hash chain, every event's zero sum, and that every read model equals a replay."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="list every problem, not only the first")
        parser.add_argument("--skip-projections", action="store_true", help="skip the replay comparison")

    def handle(self, *args, **options):
        report = verify(projections=not options["skip_projections"])
        for check in report.checks_run:
            self.stdout.write(f"  checked: {check}")
        if report.ok:
            self.stdout.write(
                self.style.SUCCESS(
                    f"ledger verified: {report.events} events on {report.streams} streams, "
                    f"{report.postings} postings; no problems"
                )
            )
            return
        shown = report.problems if options["all"] else report.problems[:1]
        for problem in shown:
            self.stderr.write(problem)
        raise CommandError(f"ledger NOT verified: {len(report.problems)} problem(s); first: {report.problems[0]}")
