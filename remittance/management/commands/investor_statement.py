"""investor_statement: print a holder's distributions for a period and its holdings on the record date."""
from remittance.management.report_command import ReportCommand
from remittance.selectors.reports import investor_statement


class Command(ReportCommand):
    help = "Print a holder's statement for a period across every trust: --holder CODE --period YYYY-MM."
    report, subject = "statement", ("--holder", "the holder's code")

    def build(self, period, options):
        return investor_statement(options["holder"], period)
