"""project_deal: a deal (a textbook deal or a trust) across PSA speeds, or a PAC schedule for a deal file (from a
deal's collateral, or from the pool's loan tape before the trust is formed)."""
import json

from django.core.management.base import BaseCommand, CommandError

from analytics.domain.measures import MeasureError
from analytics.domain.pac_schedule import ScheduleError
from analytics.domain.speed_grid import grid_text
from analytics.domain.textbook_deals import TEXTBOOK_CODES
from analytics.selectors import TrustNotFound
from analytics.services import DealRequestError, deal_grid, deal_pac_schedule
from servicing.management.commands._common import read_file

DEFAULT_SPEEDS = "0,50,90,100,165,200,300,400,500"


class Command(BaseCommand):
    help = ("Project a deal at PSA speeds through its own waterfall: each class's WAL, first and final principal "
            "period and yield at a price, and the band test of its PAC classes; or build a PAC schedule.")

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--textbook", choices=TEXTBOOK_CODES, help="one of Fabozzi's FJF deals")
        which.add_argument("--trust", help="a trust's current pool and classes, with its declared structure")
        which.add_argument("--tape", metavar="FILE.csv",
                           help="with --pac-schedule: the pool's loan tape (the boarding format), before the trust "
                                "is formed; needs --cutoff")
        parser.add_argument("--psa", default=DEFAULT_SPEEDS, help=f"PSA speeds, comma-separated ({DEFAULT_SPEEDS})")
        parser.add_argument("--price", help="price per 100 of face for the yields: one for every class, or "
                                             "CLASS=PRICE pairs, comma-separated (default par; an IO has a yield "
                                             "only at a price given)")
        parser.add_argument("--pac-schedule", metavar="LOWER,UPPER",
                            help="print the PAC schedule of the deal's collateral for this PSA band, as JSON")
        parser.add_argument("--loans", metavar="L1,L2,...", help="with --tape: only these loans (default: all)")
        parser.add_argument("--cutoff", metavar="YYYY-MM-DD",
                            help="with --tape: the deal's cut-off; the schedule starts with the first collection "
                                 "period beginning on or after it")
        parser.add_argument("--face", metavar="DOLLARS", help="the PAC's face (default: all the band supports)")

    def handle(self, *args, **options):
        try:
            tape = read_file(options["tape"]) if options["tape"] else None
            if options["pac_schedule"]:
                schedule = deal_pac_schedule(textbook=options["textbook"], trust_code=options["trust"],
                                             band=options["pac_schedule"], face=options["face"], tape=tape,
                                             loans=options["loans"], cutoff=options["cutoff"])
                self.stdout.write(json.dumps(schedule, indent=2))
                return
            if options["face"]:
                raise DealRequestError("--face goes with --pac-schedule")
            if tape is not None or options["loans"] or options["cutoff"]:
                raise DealRequestError("--tape, --loans and --cutoff go with --pac-schedule (a tape has no classes "
                                       "to project)")
            grid, tests = deal_grid(textbook=options["textbook"], trust_code=options["trust"],
                                    speeds=options["psa"], price=options["price"])
        except (DealRequestError, ScheduleError, TrustNotFound, MeasureError) as error:
            raise CommandError(str(error)) from None
        self.stdout.write(grid_text(grid, tests), ending="")

