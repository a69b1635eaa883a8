"""The report commands' shared shape: a subject option, --period, --format and --output."""
from abc import ABCMeta, abstractmethod

from django.core.management.base import BaseCommand, CommandError

from remittance.domain.report_formats import RENDERERS
from remittance.selectors.reports import ReportUnavailable


class ReportCommand(BaseCommand, metaclass=ABCMeta):
    """A report command: its subject's option, --period, --format and --output; subclasses build the report."""

    report = ""  # the key of the report's renderers in remittance.domain.report_formats.RENDERERS
    subject: tuple[str, str] | None = None  # (option, help) naming what the report is about
    default_format = "table"

    def add_arguments(self, parser):
        if self.subject:
            parser.add_argument(self.subject[0], required=True, help=self.subject[1])
        parser.add_argument("--period", required=True, help="the collection period, YYYY-MM")
        parser.add_argument("--format", choices=tuple(RENDERERS[self.report]), default=self.default_format)
        parser.add_argument("--output", help="write to this file instead of standard output")

    @abstractmethod
    def build(self, period: str, options: dict):
        """The report's data for the period, from the command's options (ReportUnavailable if none)."""

    def handle(self, *args, period, format, output, **options):
        try:
            data = self.build(period, options)
        except ReportUnavailable as unavailable:
            raise CommandError(str(unavailable)) from None
        text = RENDERERS[self.report][format](data)
        if not output:
            self.stdout.write(text, ending="")
            return
        try:
            with open(output, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
        except OSError as error:
            raise CommandError(f"cannot write {output}: {error.strerror}") from None
        self.stdout.write(f"wrote {output}")
