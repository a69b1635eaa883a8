"""remittance_report: print a trust's closed period (table, CSV or JSON)."""
from remittance.management.report_command import ReportCommand
from remittance.selectors.reports import remittance_report


class Command(ReportCommand):
    help = "Print the remittance report of a trust's closed period: --trust CODE --period YYYY-MM."
    report, subject = "report", ("--trust", "the trust's code")

    def build(self, period, options):
        return remittance_report(options["trust"], period)
