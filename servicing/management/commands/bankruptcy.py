"""Record a step of a borrower's bankruptcy case: filed, plan confirmed, relief from the stay, discharged, dismissed."""
from django.core.management.base import BaseCommand, CommandError

from servicing.domain.bankruptcy import CHAPTERS
from servicing.errors import ServicingError
from servicing.management.commands._common import acting_user, business_today, past_date
from servicing.services.bankruptcy import STEPS, bankruptcy_step, loan_cases


class Command(BaseCommand):
    help = ("Record a step of a loan's bankruptcy case (the automatic stay holds foreclosure and late charges "
            "while the case is open, until relief from the stay is granted), then list the loan's cases.")

    def add_arguments(self, parser):
        parser.add_argument("loan", help="loan number")
        parser.add_argument("step", choices=list(STEPS), help="the step of the case")
        parser.add_argument("--case", required=True, help="the court's case number")
        parser.add_argument("--chapter", type=int, choices=CHAPTERS, help="for a filing: 7 or 13")
        parser.add_argument("--court", default="", help="for a filing: the court and district")
        parser.add_argument("--on", type=past_date, help="the day of the step, YYYY-MM-DD (default today)")
        parser.add_argument("--user", help="username recorded as the acting user")

    def handle(self, *args, **options):
        on = options["on"] or business_today()
        try:
            bankruptcy_step(loan_number=options["loan"], step=options["step"], case_number=options["case"], on=on,
                            chapter=options["chapter"], court=options["court"],
                            acting_user=acting_user(options["user"]))
        except ServicingError as refused:
            raise CommandError(str(refused)) from None
        self.stdout.write(f"loan {options['loan']}: case {options['case']} {STEPS[options['step']]} on {on.isoformat()}")
        for case in loan_cases(options["loan"]).cases:
            ended = f"{case.outcome} {case.ended_on.isoformat()}" if case.ended_on else "open"
            self.stdout.write(f"  {case.describe()}, {case.court}: {ended}"
                              + (f", relief from the stay {case.relief_granted_on.isoformat()}"
                                 if case.relief_granted_on else ""))
