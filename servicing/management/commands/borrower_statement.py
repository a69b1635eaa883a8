"""borrower_statement: a loan's periodic statement, its year's form 1098 figures, or its annual escrow statement."""
import csv
import io
import json

from django.core.management.base import BaseCommand, CommandError

from servicing.borrower_statement_pdf import escrow_statement_pdf, form_1098_pdf, periodic_statement_pdf
from servicing.borrower_statement_reads import StatementUnavailable, escrow_statement, form_1098_of, periodic_statement
from servicing.domain.borrower_statements import csv_rows, periodic_statement_text, to_json


class Command(BaseCommand):
    help = ("Print a borrower statement: the periodic statement of a billing cycle (--cycle YYYY-MM), the form 1098 "
            "figures of a year (--form-1098 YYYY) or the annual escrow account statement (--escrow YYYY).")

    def add_arguments(self, parser):
        parser.add_argument("loan", help="loan number")
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--cycle", help="the billing cycle (a month), YYYY-MM")
        which.add_argument("--form-1098", type=int, metavar="YEAR", help="the year's mortgage interest figures")
        which.add_argument("--escrow", type=int, metavar="YEAR", help="the year's escrow account statement")
        parser.add_argument("--format", choices=("text", "csv", "json", "pdf"), default="text")
        parser.add_argument("--output", help="write to this file (a PDF must go to a file)")

    def handle(self, *args, loan, cycle, form_1098, escrow, format, output, **options):
        try:
            statement = (periodic_statement(loan, cycle) if cycle else form_1098_of(loan, form_1098) if form_1098
                         else escrow_statement(loan, escrow))
        except StatementUnavailable as error:
            raise CommandError(str(error)) from None
        if format == "pdf":
            if not output:
                raise CommandError("a PDF is written to a file: give --output FILE.pdf")
            render = (periodic_statement_pdf if cycle else form_1098_pdf if form_1098 else escrow_statement_pdf)
            try:
                with open(output, "wb") as handle:
                    handle.write(render(statement))
            except OSError as error:
                raise CommandError(f"cannot write {output}: {error.strerror}") from None
            self.stdout.write(f"wrote {output}")
        elif format == "json" or (format == "text" and not cycle):
            self.stdout.write(json.dumps(to_json(statement), indent=2))
        elif format == "csv":
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(("item", "value"))
            writer.writerows(csv_rows(statement))
            self.stdout.write(out.getvalue(), ending="")
        else:
            self.stdout.write(periodic_statement_text(statement), ending="")
