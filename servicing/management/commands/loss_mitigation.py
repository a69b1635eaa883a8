"""Record a loss-mitigation step on a loan: forbearance, deferral, repayment or trial plan, modification.

Thin: each subcommand calls servicing.services.loss_mitigation and prints the events it recorded. A
modification that forgives principal needs a second staff member (approvals: principal forgiveness).
"""
from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError

from servicing.errors import ServicingError
from servicing.management.commands._common import acting_user, dollars_option, iso_date, past_date
from servicing.services import loss_mitigation as lm


def _rate(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise CommandError(f"--rate: {text!r} is not an annual percent such as 4.25") from None


class Command(BaseCommand):
    help = "Record a loss-mitigation step: forbearance, payment deferral, repayment plan, trial plan, modification."

    def add_arguments(self, parser):
        steps = parser.add_subparsers(dest="step", required=True)
        for name in ("forbearance-start", "forbearance-end", "defer", "repayment-plan-start", "repayment-plan-end",
                     "trial-start", "trial-end", "modify"):
            step = steps.add_parser(name)
            step.add_argument("--loan", required=True, help="loan number")
            step.add_argument("--on", required=True, type=past_date, help="the step's date, YYYY-MM-DD")
            step.add_argument("--user", help="username recorded as the acting user")
            if name in ("forbearance-start", "repayment-plan-start", "trial-start"):
                step.add_argument("--months", required=True, type=int)
            if name == "forbearance-start":
                step.add_argument("--reduced-payment", type=dollars_option("--reduced-payment"), default=0)
            if name == "trial-start":
                step.add_argument("--payment", required=True, type=dollars_option("--payment"))
            if name == "forbearance-end":
                step.add_argument("--resolution", required=True, choices=lm.RESOLUTIONS)
                step.add_argument("--repayment-months", type=int)
            if name == "modify":
                step.add_argument("--rate", required=True, type=_rate, help="new note rate, annual percent")
                step.add_argument("--term-months", required=True, type=int)
                step.add_argument("--first-payment", required=True, type=iso_date)
                step.add_argument("--principal-forbearance", type=dollars_option("--principal-forbearance"),
                                  default=0)

    def handle(self, *args, **o):
        common = {"loan_number": o["loan"], "acting_user": acting_user(o["user"])}
        on, step = o["on"], o["step"]
        calls = {
            "forbearance-start": lambda: lm.forbearance_start(started_on=on, months=o.get("months"),
                                                              reduced_payment_cents=o.get("reduced_payment"),
                                                              **common),
            "forbearance-end": lambda: lm.forbearance_end(ended_on=on, resolution=o.get("resolution"),
                                                          repayment_months=o.get("repayment_months"), **common),
            "defer": lambda: lm.payment_defer(deferred_on=on, **common),
            "repayment-plan-start": lambda: lm.repayment_plan_start(started_on=on, months=o.get("months"), **common),
            "repayment-plan-end": lambda: lm.repayment_plan_end(ended_on=on, **common),
            "trial-start": lambda: lm.trial_start(started_on=on, months=o.get("months"),
                                                  payment_cents=o.get("payment"), **common),
            "trial-end": lambda: lm.trial_end(ended_on=on, **common),
            "modify": lambda: lm.loan_modify(terms=lm.ModificationTerms(
                modified_on=on, note_rate=o.get("rate"), term_months=o.get("term_months"),
                first_payment_date=o.get("first_payment"),
                principal_forbearance_cents=o.get("principal_forbearance") or 0), **common),
        }
        try:
            recorded = calls[step]()
        except ServicingError as refused:
            raise CommandError(str(refused)) from None
        for event in recorded if isinstance(recorded, list) else [recorded]:
            self.stdout.write(f"loan {o['loan']}: {event.event_type} on {event.effective_date.isoformat()} "
                              f"(position {event.position})")
