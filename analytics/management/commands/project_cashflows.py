"""project_cashflows: a pool's or a trust's cash flows under a prepayment and default scenario, and its measures."""
import argparse

from django.core.management.base import BaseCommand, CommandError

from analytics.domain.measures import MeasureError
from analytics.domain.render import render
from analytics.domain.scenarios import FORMATS, ScenarioError, parse_request
from analytics.selectors import TrustNotFound
from analytics.services import project_request


class Command(BaseCommand):
    help = ("Project cash flows by the SIFMA standard formulas: the collateral, each class through the deal's "
            "waterfall, WAL, yield, price, modified duration and convexity.")

    def add_arguments(self, parser):
        pool = parser.add_argument_group("pool (or --trust)")
        pool.add_argument("--balance", help="current balance, dollars")
        pool.add_argument("--gross-rate", help="gross (note) rate, annual percent")
        pool.add_argument("--net-rate", help="net (pass-through) rate, annual percent; the fee is the difference")
        pool.add_argument("--term", help="original term, months")
        pool.add_argument("--age", help="months since origination (default 0)")
        pool.add_argument("--trust", help="project this trust's current pool and classes instead")
        speeds = parser.add_argument_group("scenario (speeds may be comma-separated monthly vectors)")
        speeds.add_argument("--psa", help="prepayment speed, percent of the PSA model")
        speeds.add_argument("--cpr", help="prepayment rate, annual percent")
        speeds.add_argument("--smm", help="prepayment rate, monthly percent")
        speeds.add_argument("--cdr", help="default rate, annual percent")
        speeds.add_argument("--mdr", help="default rate, monthly percent")
        speeds.add_argument("--sda", help="default speed, percent of the SDA curve")
        speeds.add_argument("--severity", help="loss severity, percent of the balance at default")
        speeds.add_argument("--lag", help="months from default to liquidation")
        speeds.add_argument("--advance", action=argparse.BooleanOptionalAction, default=None,
                            help="whether the servicer advances P&I of defaulted loans (default: advance)")
        deal = parser.add_argument_group("classes and pricing")
        deal.add_argument("--class", dest="classes", action="append", metavar="NAME:FACE_DOLLARS:COUPON_PCT",
                          help="a sequential class, in payment order (none: one pass-through class PT)")
        deal.add_argument("--delay-days", help="actual payment delay in days (default 0)")
        deal.add_argument("--price", help="price, percent of face (default 100 unless --yield)")
        deal.add_argument("--yield", dest="yield_percent", help="bond-equivalent yield, percent")
        parser.add_argument("--format", default="table", help=f"one of {', '.join(FORMATS)} (default table)")

    def handle(self, *args, **options):
        try:
            request = parse_request(options)
            projection = project_request(request)
        except (ScenarioError, TrustNotFound, MeasureError) as error:
            raise CommandError(str(error)) from None
        self.stdout.write(render(projection, request.output_format))
