"""The demo: the system's main job on the embedded default, printed for people.

It boards the seed's ten $100,000 loans at 6% from a tape, forms the seed's
pass-through trust (1,000 bonds of $1,000 held by ten investors), then runs
eight months of servicing through the same services operations staff use:
monthly payment files, a curtailment, a payoff with an overpayment refunded,
a returned payment, escrow bills, a loan going delinquent with late charges,
its foreclosure and liquidation with a loss. It prints the month's
collections and where every loan stands, and verifies the ledger.
"""
import json
from collections import defaultdict
from datetime import date

from dateutil.relativedelta import relativedelta
from django.core.management import call_command
from django.core.management.base import BaseCommand

from ledger.models import Event
from ledger.money import dollars_grouped as money
from servicing.models import Loan, LoanPosition
from servicing.services.boarding import tape_board
from servicing.services.collections import payment_file_import, payment_return
from servicing.services.default import foreclosure_start, loan_liquidate
from servicing.services.delinquency import loans_age
from servicing.services.escrow import escrow_disburse_due, escrow_item_add
from servicing.services.payoff import payoff_quote_get
from servicing.tape import TAPE_COLUMNS
from trusts.models import SecurityClass
from trusts.selectors import holdings_as_of
from trusts.services.forming import deal_file_form

BOARDED_ON = date(2026, 1, 15)
LOANS = [f"L{i:03d}" for i in range(1, 11)]
INSTALLMENT = "849.55"  # 599.55 principal and interest + 250.00 escrow
CURTAILER, PAYER_OFF, BOUNCER, DEFAULTER = "L002", "L003", "L005", "L004"


def seed_tape() -> bytes:
    rows = [",".join(TAPE_COLUMNS)]
    for number in LOANS:
        rows.append(f"{number},Borrower {number},{number[1:]} Elm St Springfield,residential,125000.00,100000.00,,"
                    f"6,360,2026-02-01,,0.6,250.00,false")
    return ("\n".join(rows) + "\n").encode()


def seed_deal() -> bytes:
    return json.dumps({
        "code": "XYZ-2026-1", "name": "XYZ Mortgage Trust 2026-1", "issuer": "XYZ Investment Bank",
        "servicer": "ABC Bank", "trustee": "Trustee Bank", "closing_date": "2026-01-15",
        "cutoff_date": "2026-01-15", "first_payment_date": "2026-02-25", "payment_day": 25,
        "issuer_spread_rate": "0.6", "remittance_type": "actual/actual", "purchase_price_percent": "98.5",
        "residual_holder": "XYZ", "loans": LOANS,
        "classes": [{"name": "A", "face": "1000000.00", "coupon": "net-wac", "principal": "pro-rata",
                     "denomination": "1000.00"}],
        "holders": [{"code": f"INV-{i:02d}", "name": f"Investor {i}", "class": "A", "face": "100000.00"}
                    for i in range(1, 11)],
    }).encode()


def payment_file(month: date) -> bytes:
    """The month's lockbox file: every borrower pays on the 1st, with the month's exceptions."""
    rows = ["loan_number,received_on,amount,reference"]
    for number in LOANS:
        position = LoanPosition.objects.get(loan_id=number)
        if position.is_closed or (number == DEFAULTER and month >= date(2026, 4, 1)):
            continue  # paid off or liquidated; the defaulter stops paying in April
        amount = INSTALLMENT
        if number == CURTAILER and month == date(2026, 3, 1):
            amount = "10849.55"  # an installment and a $10,000 curtailment
        if number == PAYER_OFF and month == date(2026, 5, 1):
            quote = payoff_quote_get(loan_number=number, as_of=month)
            amount = money(quote.total_cents + 10_000).replace(",", "")  # $100 too much: refunded
        rows.append(f"{number},{month.isoformat()},{amount},LOCKBOX-{month:%Y%m}-{number}")
    return ("\n".join(rows) + "\n").encode()


class Command(BaseCommand):
    help = "Run the demo on the configured database (make demo uses a fresh SQLite file)."

    def handle(self, *args, **options):
        self.heading("1. Boarding the seed's ten $100,000 loans at 6% for 30 years from a tape")
        result = tape_board(raw=seed_tape(), boarded_on=BOARDED_ON)
        loan = Loan.objects.get(loan_number="L001")
        self.line(f"boarded {len(result.boarded)} loans; level payment {money(loan.payment_pi_cents)} "
                  f"+ escrow 250.00; re-running the tape boards "
                  f"{len(tape_board(raw=seed_tape(), boarded_on=BOARDED_ON).boarded)} more")
        for number in LOANS:
            escrow_item_add(loan_number=number, kind="property_tax", payee="Springfield County Treasurer",
                            annual_amount_cents=180_000, due_dates=["2026-04-01"], added_on=BOARDED_ON)
            escrow_item_add(loan_number=number, kind="hazard_insurance", payee="Acme Home Insurance",
                            annual_amount_cents=120_000, due_dates=["2026-07-01"], added_on=BOARDED_ON)

        self.heading("2. Forming the seed's pass-through trust from a deal file")
        trust = deal_file_form(raw=seed_deal())
        a = SecurityClass.objects.get(trust=trust, name="A")
        held = holdings_as_of(security_class=a, as_of=BOARDED_ON)
        self.line(f"{trust.code}: {trust.pool.count()} loans bought at 98.5%, class A {money(a.original_face_cents)} "
                  f"net-WAC, {len(held)} holders of {money(next(iter(held.values())))} each")

        self.heading("3. Eight months of collections")
        self.line(f"{'month':<8}{'interest':>12}{'sched. prin.':>14}{'curtailment':>13}{'payoff prin.':>14}"
                  f"{'liquidation':>13}{'loss':>12}")
        month = date(2026, 2, 1)
        while month <= date(2026, 9, 1):
            self.run_month(month)
            month += relativedelta(months=1)
        self.print_collections()

        self.heading("4. Where every loan stands")
        self.line(f"{'loan':<6}{'status':<13}{'unpaid':>14}{'next due':>12}{'MBA':>9}{'escrow':>10}"
                  f"{'advanced':>10}{'late chg':>10}{'loss':>12}")
        for p in LoanPosition.objects.order_by("loan_id"):
            self.line(f"{p.loan_id:<6}{p.status:<13}{money(p.principal_balance_cents):>14}{str(p.next_due_date):>12}"
                      f"{p.delinquency_bucket:>9}{money(p.escrow_balance_cents):>10}"
                      f"{money(p.escrow_advance_cents):>10}{money(p.late_charges_due_cents):>10}"
                      f"{money(p.realized_loss_cents):>12}")

        self.heading("5. Verifying the ledger")
        call_command("verify_ledger", stdout=self.stdout)

    def run_month(self, month: date) -> None:
        """One month: the 1st's payment file, escrow bills, exceptions, aging at month end."""
        payment_file_import(raw=payment_file(month), today=month)
        escrow_disburse_due(as_of=month)
        if month == date(2026, 5, 1):
            payment_return(loan_number=BOUNCER, reference=f"LOCKBOX-202605-{BOUNCER}", returned_on=date(2026, 5, 6),
                           reason="NSF: insufficient funds", fee_cents=2_500)
        if month == date(2026, 8, 1):
            foreclosure_start(loan_number=DEFAULTER, started_on=month)
        if month == date(2026, 9, 1):
            loan_liquidate(loan_number=DEFAULTER, liquidated_on=date(2026, 9, 15), gross_proceeds_cents=8_000_000,
                           costs_cents=600_000)
        loans_age(as_of=month + relativedelta(months=1) - relativedelta(days=1))

    def print_collections(self) -> None:
        totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for effective_date, payload in Event.objects.filter(stream__startswith="loan:").values_list(
                "effective_date", "payload"):
            for key, cents in (payload.get("collections") or {}).items():
                totals[f"{effective_date:%Y-%m}"][key] += cents
        keys = ("interest_cents", "scheduled_principal_cents", "curtailment_cents", "payoff_principal_cents",
                "liquidation_principal_cents", "realized_loss_cents")
        widths = (12, 14, 13, 14, 13, 12)
        for month in sorted(m for m in totals if any(totals[m].values())):
            self.line(f"{month:<8}" + "".join(f"{money(totals[month][k]):>{w}}" for k, w in zip(keys, widths)))

    def heading(self, text: str) -> None:
        self.stdout.write(self.style.MIGRATE_HEADING(text))

    def line(self, text: str) -> None:
        self.stdout.write(f"   {text}")
