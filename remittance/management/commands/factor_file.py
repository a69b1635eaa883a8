"""factor_file: every closed trust's class and pool factors for a period (CSV or JSON)."""
from remittance.management.report_command import ReportCommand
from remittance.selectors.reports import factor_file


class Command(ReportCommand):
    help = "Print the factor file of a period: each closed trust's classes and pool, --period YYYY-MM."
    report = "factors"
    default_format = "csv"

    def build(self, period, options):
        return factor_file(period)
