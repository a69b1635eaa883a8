"""Run (or preview) a loan's annual escrow analysis and print every figure."""
from django.core.management.base import BaseCommand, CommandError

from ledger.domain.money import dollars
from servicing.errors import ServicingError
from servicing.events import EscrowAnalyzed
from servicing.management.commands._common import acting_user, iso_date, past_date
from servicing.services.escrow import escrow_analysis_preview, escrow_analysis_run

FIGURES = (
    ("annual disbursements", "annual_disbursements_cents"), ("cushion", "cushion_cents"),
    ("base monthly escrow", "base_monthly_escrow_cents"), ("projected low point", "projected_low_point_cents"),
    ("deficiency", "deficiency_cents"), ("shortage", "shortage_cents"), ("surplus", "surplus_cents"),
    ("surplus refunded", "surplus_refund_cents"), ("surplus credited", "surplus_credit_cents"),
    ("previous monthly escrow", "previous_monthly_escrow_cents"), ("new monthly escrow", "new_monthly_escrow_cents"),
)


class Command(BaseCommand):
    help = "Run the annual RESPA escrow analysis of a loan (recorded once per computation year) and print it."

    def add_arguments(self, parser):
        parser.add_argument("loan", help="loan number")
        parser.add_argument("--year-start", type=iso_date, required=True, help="computation year start, YYYY-MM-DD")
        parser.add_argument("--analyzed-on", type=past_date, help="day of the analysis (default: today)")
        parser.add_argument("--preview", action="store_true", help="compute and print only; record nothing")
        parser.add_argument("--user", help="username recorded as the acting user")

    def handle(self, *args, **options):
        try:
            if options["preview"]:
                record = escrow_analysis_preview(loan_number=options["loan"], analyzed_on=options["analyzed_on"],
                                                 computation_year_start=options["year_start"])
            else:
                record = escrow_analysis_run(
                    loan_number=options["loan"], computation_year_start=options["year_start"],
                    analyzed_on=options["analyzed_on"], acting_user=acting_user(options["user"]))
        except ServicingError as refused:
            raise CommandError(str(refused)) from None
        state = "preview, nothing recorded" if not record.recorded else (
            "recorded before" if record.already_recorded else "recorded")
        self.stdout.write("\n".join(render(record.loan_number, record.analysis, state)))


def render(loan_number: str, a: EscrowAnalyzed, state: str) -> list[str]:
    lines = [
        f"Escrow analysis of loan {loan_number}, computation year from {a.computation_year_start.isoformat()} "
        f"({state})",
        f"  analyzed on {a.analyzed_on.isoformat()}; borrower {'current' if a.borrower_current else 'not current'} "
        f"(bucket {a.delinquency_bucket})",
        f"  escrow held {dollars(a.escrow_balance_cents)}, advanced {dollars(a.escrow_advance_cents)}, "
        f"starting balance {dollars(a.escrow_balance_cents_opening)}",
    ]
    for item in a.items:
        lines.append(f"  item {item.kind} ({item.payee}): {dollars(item.annual_amount_cents)} a year "
                     f"on {', '.join(d.isoformat() for d in item.disbursement_dates)}")
    lines += [f"  {label:<26}{dollars(getattr(a, key)):>12}" for label, key in FIGURES]
    lines.append(f"  {'month':<12}{'deposit':>12}{'disbursed':>12}{'balance':>12}")
    for month in a.projection:
        lines.append(f"  {month.month_start.isoformat()[:7]:<12}{dollars(month.deposit_cents):>12}"
                     f"{dollars(month.disbursements_cents):>12}{dollars(month.balance_cents_closing):>12}")
    lines.append("  payments of the year: " + ", ".join(dollars(c) for c in a.monthly_escrow_payments_cents))
    return lines
