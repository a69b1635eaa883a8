"""Record the liquidation of a defaulted loan: sale proceeds, costs, and the realized loss."""
from django.core.management.base import BaseCommand, CommandError

from ledger.domain.money import dollars
from servicing.errors import ServicingError
from servicing.events import loan_fact
from servicing.management.commands._common import acting_user, dollars_option, past_date
from servicing.services.default import loan_liquidate

SHOWN = (
    ("gross proceeds", "gross_proceeds_cents"), ("escrow applied", "escrow_applied_cents"),
    ("suspense applied", "suspense_applied_cents"), ("costs paid", "costs_paid_cents"),
    ("advances recovered", "advance_recovered_cents"), ("interest recovered", "interest_cents"),
    ("principal recovered", "principal_recovered_cents"), ("late charges recovered", "late_charges_recovered_cents"),
    ("fees recovered", "fees_recovered_cents"), ("refund to borrower", "refund_to_borrower_cents"),
    ("realized loss", "realized_loss_cents"), ("advances written off", "advance_written_off_cents"),
    ("late charges written off", "late_charges_written_off_cents"), ("fees written off", "fees_written_off_cents"),
)


class Command(BaseCommand):
    help = "Liquidate a loan in foreclosure or REO: proceeds pay costs, advances, interest, then principal."

    def add_arguments(self, parser):
        parser.add_argument("loan", help="loan number")
        parser.add_argument("--liquidated-on", type=past_date, required=True, help="sale date, YYYY-MM-DD")
        parser.add_argument("--proceeds", type=dollars_option("--proceeds"), required=True,
                            help="gross sale proceeds in dollars")
        parser.add_argument("--costs", type=dollars_option("--costs"), default=0,
                            help="liquidation costs in dollars (default 0)")
        parser.add_argument("--user", help="username recorded as the acting user")

    def handle(self, *args, **options):
        try:
            event = loan_liquidate(
                loan_number=options["loan"], liquidated_on=options["liquidated_on"],
                gross_proceeds_cents=options["proceeds"], costs_cents=options["costs"],
                acting_user=acting_user(options["user"]),
            )
        except ServicingError as refused:
            raise CommandError(str(refused)) from None
        p = loan_fact(event)
        self.stdout.write(f"loan {options['loan']} liquidated on {p.on.isoformat()} ({p.interest_days} days of "
                          f"interest from {p.accrual_start.isoformat()})")
        for label, key in SHOWN:
            self.stdout.write(f"  {label:<26}{dollars(getattr(p, key)):>14}")
