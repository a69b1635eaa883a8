"""Record a loss-mitigation step on a loan: forbearance, deferral, repayment or trial plan, modification.

Thin: servicing.services.loss_mitigation.step_record records the step; this prints the events. A
modification that forgives principal needs a second staff member (approvals: principal forgiveness).
"""
from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError

from servicing.errors import ServicingError
from servicing.management.commands._common import acting_user, dollars_option, iso_date, past_date
from servicing.services.loss_mitigation import RESOLUTIONS, STEP_NAMES, step_record


def _rate(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise CommandError(f"--rate: {text!r} is not an annual percent such as 4.25") from None


class Command(BaseCommand):
    help = "Record a loss-mitigation step: forbearance, payment deferral, repayment plan, trial plan, modification."

    def add_arguments(self, parser):
        parser.add_argument("step", choices=STEP_NAMES)
        parser.add_argument("--loan", required=True, help="loan number")
        parser.add_argument("--on", required=True, type=past_date, help="the step's date, YYYY-MM-DD")
        parser.add_argument("--months", type=int, help="a plan's months")
        parser.add_argument("--amount", type=dollars_option("--amount"), default=0,
                            help="a forbearance's reduced payment or a trial's payment, in dollars")
        parser.add_argument("--resolution", choices=RESOLUTIONS, help="how a forbearance ends")
        parser.add_argument("--repayment-months", type=int, help="the repayment plan a forbearance ends in")
        parser.add_argument("--rate", type=_rate, help="a modification's new note rate, annual percent")
        parser.add_argument("--term-months", type=int, help="a modification's new term")
        parser.add_argument("--first-payment", type=iso_date, help="a modification's first payment date")
        parser.add_argument("--principal-forbearance", type=dollars_option("--principal-forbearance"), default=0)
        parser.add_argument("--user", help="username recorded as the acting user")

    def handle(self, *args, **o):
        try:
            recorded = step_record(
                o["step"], loan_number=o["loan"], on=o["on"], acting_user=acting_user(o["user"]), months=o["months"],
                amount_cents=o["amount"], resolution=o["resolution"], repayment_months=o["repayment_months"],
                note_rate=o["rate"], term_months=o["term_months"], first_payment_date=o["first_payment"],
                principal_forbearance_cents=o["principal_forbearance"])
        except ServicingError as refused:
            raise CommandError(str(refused)) from None
        for event in recorded:
            self.stdout.write(f"loan {o['loan']}: {event.event_type} on {event.effective_date.isoformat()} "
                              f"(position {event.position})")
