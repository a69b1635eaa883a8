"""loan_level_report: write a trust's closed period loan by loan (the investor reporting file, CSV or JSON)."""
from remittance.management.report_command import ReportCommand
from remittance.selectors.loan_level import loan_level_file, loan_level_rows


class Command(ReportCommand):
    help = ("Write the loan-level investor reporting file of a trust's closed period (a row per pool loan, then "
            "the totals, reconciled to the close): --trust CODE --period YYYY-MM.")
    report, subject, default_format = "loan_level", ("--trust", "the trust's code"), "csv"

    def build(self, period, options):
        return loan_level_rows(loan_level_file(options["trust"], period))
