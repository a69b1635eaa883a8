"""The demo: the system's main job on the embedded default, printed for people.

It boards the seed's ten $100,000 loans at 6% from a tape and forms the
seed's pass-through trust XYZ-2026-1 (servicing fee 0.6%, spread 0.6%,
1,000 bonds of $1,000 held by ten investors); it boards ten more loans and
forms a four-class sequential deal, SEQ-2026-1 (A1, A2, M, B), whose faces
are computed from the boarded balances so they add up to the pool to the
cent. Then it runs a year of servicing, February 2026 to January 2027,
through the same services operations staff use: monthly payment files,
curtailments, two payoffs (one overpaid and refunded), a returned payment,
escrow bills, a loan going delinquent, its foreclosure and liquidation with
a loss; and after each month it closes that month for both trusts. It
prints each trust's periods, the sequential classes' balances, what the
investor INV-01 was paid, and verifies the ledger.

Every figure after the year is printed through the report code, so the demo
shows what a user gets: the close's summary (remittance.selectors.period_summary, as
`close_period` prints it), the remittance report and the investor statement
(remittance.selectors.reports builds them, remittance.domain.report_formats renders them, as
`remittance_report` and `investor_statement` print them).

The demo keeps its own calendar: while it works on a day, the business clock
(`ledger.business_time.business_day`) is fixed at that day, and the books are
read on the day the year's last period closes, so the year can run ahead of the
wall clock and the output never depends on when it is run.
"""
import json
from datetime import date
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db.models import Sum

from ledger.actors import DEMO
from ledger.business_time import business_day
from ledger.domain.money import dollars
from ledger.domain.money import dollars_grouped as money
from remittance import demo_loss_mitigation, demo_products, demo_structures
from remittance.demo_bankruptcy import bankruptcy_story
from remittance.domain.trust_calendar import Period
from remittance.models import PeriodResult, PeriodStatus, TrustPeriod
from remittance.domain.report_formats import report_table, statement_table
from remittance.selectors.reports import ReportUnavailable, investor_statement, remittance_report
from remittance.services.closing import period_close
from remittance.selectors.period_summary import outcome_summary, summary_lines
from servicing.models import Loan, LoanPosition
from servicing.services.boarding import tape_board
from servicing.services.payment_files import payment_file_import
from servicing.services.payment_returns import payment_return
from servicing.services.default import foreclosure_start, loan_liquidate
from servicing.services.delinquency import loans_age
from servicing.services.escrow import escrow_disburse_due, escrow_item_add
from servicing.services.payoff import payoff_quote_get
from servicing.domain.loan_tape import TAPE_COLUMNS
from trusts.models import SecurityClass
from trusts.selectors import holdings_as_of
from trusts.services.forming import deal_file_form

BOARDED_ON = date(2026, 1, 15)
FIRST_MONTH, LAST_MONTH = date(2026, 2, 1), date(2027, 1, 1)
YEAR_END = Period.containing(LAST_MONTH).next().first_day  # the day the last period closes; the books are read then

# The seed: ten $100,000 loans at 6%, the pass-through trust XYZ-2026-1.
SEED = "XYZ-2026-1"
SEED_LOANS = [f"L{i:03d}" for i in range(1, 11)]
CURTAILER, PAYER_OFF, BOUNCER, DEFAULTER = "L002", "L003", "L005", "L004"

# The sequential deal's loans: number, balance, note rate, servicing fee rate, monthly escrow.
SEQ = "SEQ-2026-1"
SEQ_TAPE = [
    ("L011", "150000.00", "5.5", "0.25", "310.00"),
    ("L012", "183456.78", "5.75", "0.25", "365.00"),
    ("L013", "200000.00", "6", "0.375", "410.00"),
    ("L014", "225000.00", "6.25", "0.375", "450.00"),
    ("L015", "250000.00", "6.5", "0.5", "520.00"),
    ("L016", "275000.00", "5.875", "0.25", "560.00"),
    ("L017", "300000.00", "6.125", "0.375", "610.00"),
    ("L018", "320000.00", "6.75", "0.5", "650.00"),
    ("L019", "350000.00", "7", "0.5", "700.00"),
    ("L020", "400000.00", "6.375", "0.375", "800.00"),
]
SEQ_LOANS = [row[0] for row in SEQ_TAPE]
SEQ_SPREAD = "0.25"
# Class: priority, fixed coupon (below the pool's net rate, about 5.6%), share of the pool (B takes the rest).
SEQ_CLASSES = [("A1", 1, "4.25", Decimal("0.10")), ("A2", 2, "4.75", Decimal("0.70")),
               ("M", 3, "5", Decimal("0.12")), ("B", 4, "5.25", None)]
# The classes' CUSIPs (a made-up issuer number, each with its right check digit), shown on the statement.
SEQ_CUSIPS = {"A1": "78449AAA0", "A2": "78449AAB8", "M": "78449AAC6", "B": "78449AAD4"}
# Each class's holders: fixed holdings first, the last named holder takes the rest of the class.
# INV-01 also holds the seed's bonds. Each holder holds one class of a deal: the close cannot yet pay a
# holder of two classes of one trust (it appends that holder's stream twice in one batch).
SEQ_HOLDERS = {
    "A1": [("INV-01", 10_000_000), ("INV-11", 10_000_000), ("INV-12", None)],
    "A2": [("INV-13", 100_000_000), ("INV-14", 50_000_000), ("INV-15", None)],
    "M": [("INV-16", 20_000_000), ("INV-17", None)],
    "B": [("INV-18", 10_000_000), ("INV-19", None)],
}
SEQ_CURTAILMENTS = {("L013", date(2026, 4, 1)): 2_000_000, ("L016", date(2026, 6, 1)): 1_500_000,
                    ("L011", date(2026, 8, 1)): 1_000_000}
SEQ_PAYER_OFF, SEQ_PAYOFF_MONTH = "L020", date(2026, 10, 1)
INVESTOR = "INV-01"
# A trust's period table: the close summary's figures (remittance.selectors.period_summary.outcome_summary), column widths.
TRUST_COLUMNS = {"interest_cents": 12, "principal_cents": 13, "servicing_fee_cents": 11, "issuer_spread_cents": 10,
                 "paid_to_holders_cents": 14, "excess_cents": 10, "realized_loss_cents": 11}


def demo_periods() -> list[Period]:
    """The year's periods, February 2026 to January 2027."""
    periods = [Period.containing(FIRST_MONTH)]
    while periods[-1] < Period.containing(LAST_MONTH):
        periods.append(periods[-1].next())
    return periods


def month_end(month: date) -> date:
    return month + relativedelta(months=1) - relativedelta(days=1)


def tape(rows: list[tuple[str, str, str, str, str]]) -> bytes:
    lines = [",".join(TAPE_COLUMNS)]
    for number, balance, rate, fee, escrow in rows:
        value = (Decimal(balance) * Decimal("1.25")).quantize(Decimal("0.01"))
        lines.append(f"{number},Borrower {number},{number[1:]} Elm St Springfield,residential,{value},{balance},,"
                     f"{rate},360,2026-02-01,,{fee},{escrow},false")
    return ("\n".join(lines) + "\n").encode()


def seed_tape() -> bytes:
    return tape([(number, "100000.00", "6", "0.6", "250.00") for number in SEED_LOANS])


def deal_header(code: str, name: str, spread: str, price: str) -> dict:
    return {"code": code, "name": name, "issuer": "XYZ Investment Bank", "servicer": "ABC Bank",
            "trustee": "Trustee Bank", "closing_date": "2026-01-15", "cutoff_date": "2026-01-15",
            "first_payment_date": "2026-03-25", "payment_day": 25, "issuer_spread_rate": spread,
            "remittance_type": "actual/actual", "purchase_price_percent": price, "residual_holder": "XYZ"}


def seed_deal() -> bytes:
    return json.dumps({
        **deal_header(SEED, "XYZ Mortgage Trust 2026-1", "0.6", "98.5"), "loans": SEED_LOANS,
        "classes": [{"name": "A", "face": "1000000.00", "coupon": "net-wac", "principal": "pro-rata",
                     "denomination": "1000.00"}],
        "holders": [{"code": f"INV-{i:02d}", "name": f"Investor {i}", "class": "A", "face": "100000.00"}
                    for i in range(1, 11)],
    }).encode()


def seq_faces(pool_cents: int) -> dict[str, int]:
    """The classes' faces: whole thousands of the pool for the seniors, the rest (to the cent) for B."""
    faces = {name: int(pool_cents * share) // 100_000 * 100_000
             for name, _, _, share in SEQ_CLASSES if share is not None}
    faces["B"] = pool_cents - sum(faces.values())
    return faces


def seq_deal(pool_cents: int) -> bytes:
    faces = seq_faces(pool_cents)
    classes, holders = [], []
    for name, priority, coupon, _ in SEQ_CLASSES:
        face = faces[name]
        classes.append({"name": name, "face": dollars(face), "coupon": coupon, "principal": "sequential",
                        "priority": priority, "denomination": "1000.00" if face % 100_000 == 0 else "0.01",
                        "cusip": SEQ_CUSIPS[name]})
        left = face
        for code, held in SEQ_HOLDERS[name]:
            held = left if held is None else held
            holders.append({"code": code, "name": f"Investor {code[4:]}", "class": name, "face": dollars(held)})
            left -= held
    return json.dumps({**deal_header(SEQ, "SEQ Mortgage Trust 2026-1", SEQ_SPREAD, "100.25"),
                       "loans": SEQ_LOANS, "classes": classes, "holders": holders}).encode()


def payment_file(month: date) -> tuple[bytes, list[str]]:
    """The month's lockbox file: every borrower pays an installment on the 1st, with the month's exceptions."""
    rows, notes = ["loan_number,received_on,amount,reference"], []
    for number in SEED_LOANS + SEQ_LOANS:
        position = LoanPosition.objects.get(loan_id=number)
        if position.is_closed or (number == DEFAULTER and month >= date(2026, 4, 1)):
            continue  # paid off or liquidated; the defaulter stops paying in April
        cents = position.payment_pi_cents + position.escrow_monthly_cents
        extra = (1_000_000 if (number, month) == (CURTAILER, date(2026, 3, 1))
                 else SEQ_CURTAILMENTS.get((number, month), 0))
        if extra:
            cents += extra
            notes.append(f"{number} curtails {money(extra)}")
        if (number, month) in ((PAYER_OFF, date(2026, 5, 1)), (SEQ_PAYER_OFF, SEQ_PAYOFF_MONTH)):
            quote = payoff_quote_get(loan_number=number, as_of=month)
            over = 10_000 if number == PAYER_OFF else 0  # $100 too much: refunded
            cents = quote.total_cents + over
            notes.append(f"{number} pays off {money(quote.principal_cents)}"
                         + (f" ({money(over)} over, refunded)" if over else ""))
        rows.append(f"{number},{month.isoformat()},{dollars(cents)},LOCKBOX-{month:%Y%m}-{number}")
    return ("\n".join(rows) + "\n").encode(), notes


class Command(BaseCommand):
    help = "Run the demo on the configured database (make demo uses a fresh SQLite file)."

    def handle(self, *args, **options):
        with business_day(BOARDED_ON):
            self.board_and_form()

        self.heading("3. A year of servicing, February 2026 to January 2027, each month closed for every trust")
        self.line(f"{'month':<9}{'payments':>8}  events")
        month = FIRST_MONTH
        while month <= LAST_MONTH:
            with business_day(month_end(month)):
                posted, notes = self.run_month(month)
            period = Period.containing(month)
            with business_day(period.next().first_day):  # a period closes once it has ended
                for code in (SEED, SEQ, *demo_products.TRUSTS, *demo_structures.TRUSTS):
                    period_close(trust_code=code, period=period, as_of=period.next().first_day, acting_user=DEMO)
            self.line(f"{str(period):<9}{posted:>8}  {'; '.join(notes) or '-'}")
            month += relativedelta(months=1)
        # Everything after the year is read on its last day, when the last period closed.
        with business_day(YEAR_END):
            self.print_books()

    def print_books(self) -> None:
        self.reports: dict[tuple[str, str], dict] = {}
        self.print_closed()

        self.heading("4. Where every loan stands")
        self.print_loans()

        self.heading(f"5. {SEED}: the seed's pass-through trust, period by period")
        self.print_trust(SEED)
        self.print_seed_first_period_and_loss()

        self.heading(f"6. {SEQ}: the sequential deal, period by period")
        self.print_trust(SEQ)
        self.print_classes(SEQ)

        self.heading(f"7. What investor {INVESTOR} was paid")
        self.print_investor(INVESTOR)

        self.heading("8. Loan products: ARM rate changes, an interest-only end, a balloon (remittance.demo_products)")
        demo_products.print_products(self.line)

        self.heading(f"9. Loss mitigation: {demo_loss_mitigation.LOAN} through forbearance, a trial and a modification")
        for text in demo_loss_mitigation.report():
            self.line(text)

        self.heading("10. Bankruptcy: a chapter 13 case and its automatic stay, after the year")
        bankruptcy_story(self.line)

        self.heading("11. Structured deals: a PAC/support/Z deal and a private-label deal with triggers "
                     "(remittance.demo_structures)")
        demo_structures.print_structures(self.line)

        self.heading("12. Verifying the ledger")
        call_command("verify_ledger", stdout=self.stdout)

    # ---- the business ------------------------------------------------------------------------------

    def board_and_form(self) -> None:
        self.heading("1. Boarding the loans from tapes")
        result = tape_board(raw=seed_tape(), boarded_on=BOARDED_ON, acting_user=DEMO)
        loan = Loan.objects.get(loan_number="L001")
        self.line(f"boarded {len(result.boarded)} loans; level payment {money(loan.payment_pi_cents)} "
                  f"+ escrow 250.00; re-running the tape boards "
                  f"{len(tape_board(raw=seed_tape(), boarded_on=BOARDED_ON, acting_user=DEMO).boarded)} more")
        for number in SEED_LOANS:
            escrow_item_add(loan_number=number, kind="property_tax", payee="Springfield County Treasurer",
                            annual_amount_cents=180_000, due_dates=["2026-04-01"], added_on=BOARDED_ON,
                            acting_user=DEMO)
            escrow_item_add(loan_number=number, kind="hazard_insurance", payee="Acme Home Insurance",
                            annual_amount_cents=120_000, due_dates=["2026-07-01"], added_on=BOARDED_ON,
                            acting_user=DEMO)
        result = tape_board(raw=tape(SEQ_TAPE), boarded_on=BOARDED_ON, acting_user=DEMO)
        boarded = Loan.objects.filter(loan_number__in=SEQ_LOANS)
        pool = boarded.aggregate(total=Sum("boarded_balance_cents"))["total"]
        self.line(f"boarded {len(result.boarded)} more loans ({SEQ_LOANS[0]}-{SEQ_LOANS[-1]}), "
                  f"{money(min(b.boarded_balance_cents for b in boarded))} to "
                  f"{money(max(b.boarded_balance_cents for b in boarded))} at "
                  f"{min(b.note_rate for b in boarded).normalize()}% to {max(b.note_rate for b in boarded).normalize()}%,"
                  f" {money(pool)} in all")
        for number, *_, escrow in SEQ_TAPE:
            escrow_item_add(loan_number=number, kind="property_tax", payee="Springfield County Treasurer",
                            annual_amount_cents=12 * int(Decimal(escrow) * 100), due_dates=["2026-12-01"],
                            added_on=BOARDED_ON, acting_user=DEMO)

        demo_loss_mitigation.board(BOARDED_ON)  # L021, in no trust: its loss mitigation is printed in section 8
        self.heading("2. Forming the trusts from deal files")
        trust = deal_file_form(raw=seed_deal(), acting_user=DEMO)
        a = SecurityClass.objects.get(trust=trust, name="A")
        held = holdings_as_of(security_class=a, as_of=BOARDED_ON)
        self.line(f"{trust.code}: {trust.pool.count()} loans bought at 98.5%, class A {money(a.original_face_cents)} "
                  f"net-WAC, {len(held)} holders of {money(next(iter(held.values())))} each; "
                  f"fee 0.6%, spread {trust.issuer_spread_rate.normalize()}%")
        trust = deal_file_form(raw=seq_deal(pool), acting_user=DEMO)
        self.line(f"{trust.code}: {trust.pool.count()} loans bought at 100.25%, spread "
                  f"{trust.issuer_spread_rate.normalize()}%, four sequential classes adding up to the pool:")
        for c in SecurityClass.objects.filter(trust=trust).order_by("priority"):
            held = holdings_as_of(security_class=c, as_of=BOARDED_ON)
            self.line(f"  {c.name:<3} priority {c.priority}  coupon {c.coupon.normalize():>5}%"
                      f"  face {money(c.original_face_cents):>14}  bonds of {money(c.denomination_cents):>8}"
                      f"  holders {', '.join(f'{code} {money(cents)}' for code, cents in sorted(held.items()))}")
        for text in demo_products.board_and_form(BOARDED_ON):
            self.line(text)
        for text in demo_structures.board_and_form(BOARDED_ON):
            self.line(text)

    def run_month(self, month: date) -> tuple[int, list[str]]:
        """One month: the 1st's payment file, escrow bills, exceptions, aging at month end."""
        raw, notes = payment_file(month)
        posted = len(payment_file_import(raw=raw, today=month, acting_user=DEMO).posted)
        disbursed = escrow_disburse_due(as_of=month, acting_user=DEMO)
        if disbursed.disbursed:
            notes.append(f"escrow pays {disbursed.disbursed} bills, {money(disbursed.amount_cents)} "
                         f"({money(disbursed.advanced_cents)} advanced)")
        if month == date(2026, 4, 1):
            notes.append(f"{DEFAULTER} stops paying")
        if month == date(2026, 5, 1):
            payment_return(loan_number=BOUNCER, reference=f"LOCKBOX-202605-{BOUNCER}", returned_on=date(2026, 5, 6),
                           reason="NSF: insufficient funds", fee_cents=2_500, acting_user=DEMO)
            notes.append(f"{BOUNCER}'s payment returned NSF on 05-06")
        if month == date(2026, 8, 1):
            foreclosure_start(loan_number=DEFAULTER, started_on=month, acting_user=DEMO)
            notes.append(f"{DEFAULTER} foreclosure started")
        if month == date(2026, 9, 1):
            loan_liquidate(loan_number=DEFAULTER, liquidated_on=date(2026, 9, 15), gross_proceeds_cents=8_000_000,
                           costs_cents=600_000, acting_user=DEMO)
            notes.append(f"{DEFAULTER} liquidated on 09-15 for 80,000.00 less 6,000.00 costs")
        notes += demo_products.run_month(month, month_end(month))
        notes += demo_loss_mitigation.month(month)
        notes += demo_structures.run_month(month)
        loans_age(as_of=month_end(month), acting_user=DEMO)
        return posted, notes

    # ---- printing: through the report code, the figures a user gets from the report commands -----------

    def report(self, code: str, period: str) -> dict:
        """The period's remittance report (`manage.py remittance_report`), built once for every section."""
        key = (code, period)
        if key not in self.reports:
            self.reports[key] = remittance_report(code, period)
        return self.reports[key]

    def print_closed(self) -> None:
        expected = [str(p) for p in demo_periods()]
        for code in (SEED, SEQ):
            closed = list(TrustPeriod.objects.filter(trust__code=code, status=PeriodStatus.CLOSED)
                          .order_by("period").values_list("period", flat=True))
            reconciled = sum(1 for period in closed if self.report(code, period)["reconciliation"]["reconciled"])
            verdict = "every period closed" if closed == expected else f"MISSING {sorted(set(expected) - set(closed))}"
            self.line(f"{code}: closed {len(closed)} of {len(expected)} periods, {expected[0]} to {expected[-1]} "
                      f"({verdict}); {reconciled} reconciled to the cent")

    def print_loans(self) -> None:
        self.line(f"{'loan':<6}{'status':<13}{'unpaid':>14}{'next due':>12}{'MBA':>9}{'escrow':>10}"
                  f"{'advanced':>10}{'late chg':>10}{'loss':>12}")
        for p in LoanPosition.objects.order_by("loan_id"):
            self.line(f"{p.loan_id:<6}{p.status:<13}{money(p.principal_balance_cents):>14}{str(p.next_due_date):>12}"
                      f"{p.delinquency_bucket:>9}{money(p.escrow_balance_cents):>10}"
                      f"{money(p.escrow_advance_cents):>10}{money(p.late_charges_due_cents):>10}"
                      f"{money(p.realized_loss_cents):>12}")

    def print_trust(self, code: str) -> None:
        """Each closed period's headline figures, as the close sums them up (remittance.selectors.period_summary)."""
        self.line(f"{'period':<8}{'paid on':>11}{'interest':>12}{'principal':>13}{'serv. fee':>11}{'spread':>10}"
                  f"{'to holders':>14}{'excess':>10}{'loss':>11}{'pool factor':>12}")
        totals = dict.fromkeys(TRUST_COLUMNS, 0)
        for result in PeriodResult.objects.filter(trust__code=code).order_by("period"):
            summary = outcome_summary(result)
            for column in TRUST_COLUMNS:
                totals[column] += summary[column]
            self.line(f"{summary['period']:<8}{summary['payment_date']:>11}" + self.amounts(summary)
                      + f"{summary['pool_factor']:>12}")
        self.line(f"{'total':<8}{'':>11}" + self.amounts(totals))

    @staticmethod
    def amounts(figures: dict) -> str:
        return "".join(f"{money(figures[column]):>{width}}" for column, width in TRUST_COLUMNS.items())

    def print_seed_first_period_and_loss(self) -> None:
        first = str(Period.containing(FIRST_MONTH))
        self.line(f"its first period, as `manage.py remittance_report --trust {SEED} --period {first}` prints it:")
        self.block(report_table(self.report(SEED, first)))
        loss = PeriodResult.objects.filter(trust__code=SEED, realized_loss_cents__gt=0).order_by("period").first()
        if loss is not None:
            self.line(f"{loss.period}, when {DEFAULTER}'s liquidation lost {money(loss.realized_loss_cents)}, "
                      "as the close summed it up (`manage.py close_period`):")
            self.block("\n".join(summary_lines(loss)))

    def print_classes(self, code: str) -> None:
        """Each class's balance and factor after each period, from the periods' remittance reports."""
        classes = list(SecurityClass.objects.filter(trust__code=code).order_by("priority"))
        self.line("each class's balance and factor after the period's distribution:")
        self.line(f"{'period':<8}" + "".join(f"{c.name + ' balance':>15}{'factor':>11}" for c in classes))
        periods = list(PeriodResult.objects.filter(trust__code=code).order_by("period")
                       .values_list("period", flat=True))
        rows = {period: {line["class"]: line for line in self.report(code, period)["classes"]} for period in periods}
        self.line(f"{'face':<8}" + "".join(f"{money(c.original_face_cents):>15}{1:>11.8f}" for c in classes))
        for period in periods:
            self.line(f"{period:<8}" + "".join(
                f"{money(rows[period][c.name]['balance_end_cents']):>15}{rows[period][c.name]['factor']:>11}"
                for c in classes))
        first, second = classes[0].name, classes[1].name
        for period in periods:
            one, two = rows[period][first], rows[period][second]
            if one["balance_end_cents"] == 0 and one["principal_paid_cents"] and two["principal_paid_cents"]:
                self.line(f"{period}: principal {money(one['principal_paid_cents'] + two['principal_paid_cents'])} "
                          f"(with {SEQ_PAYER_OFF}'s payoff) paid {first} off with "
                          f"{money(one['principal_paid_cents'])} and crossed into {second} with "
                          f"{money(two['principal_paid_cents'])} in the same month")
        paid_down = [p for p in periods if rows[p][first]["balance_end_cents"] == 0]
        if paid_down:
            self.line(f"class {first} paid down: balance 0.00 from {paid_down[0]}; "
                      f"{second} balance {money(rows[periods[-1]][second]['balance_end_cents'])} after {periods[-1]}")

    def print_investor(self, holder: str) -> None:
        """The holder's statements (`manage.py investor_statement`): the first in full, then every period's."""
        statements = []
        for period in demo_periods():
            try:
                statements.append(investor_statement(holder, period))
            except ReportUnavailable:
                continue  # nothing paid to the holder that period
        if not statements:
            self.line(f"{holder} was paid nothing")
            return
        first = statements[0]["period"]["period"]
        self.line(f"its first statement, as `manage.py investor_statement --holder {holder} --period {first}` "
                  "prints it:")
        self.block(statement_table(statements[0]))
        # The seed's trust first, then the others by code.
        columns = sorted({(d["trust"], d["class"]) for s in statements for d in s["distributions"]},
                         key=lambda k: (k[0] != SEED, k))
        self.line("every period's statement in one line:")
        self.line(f"{'period':<8}{'paid on':>11}" + "".join(f"{f'{t} {c}':>17}" for t, c in columns)
                  + f"{'total':>13}")
        totals = dict.fromkeys(columns, 0)
        for statement in statements:
            cells = {(d["trust"], d["class"]): d for d in statement["distributions"]}
            for key, d in cells.items():
                totals[key] += d["total_cents"]
            paid_on = statement["distributions"][0]["payment_date"]
            self.line(f"{statement['period']['period']:<8}{str(paid_on):>11}"
                      + "".join(f"{money(cells[k]['total_cents']) if k in cells else '-':>17}" for k in columns)
                      + f"{money(statement['totals']['total_cents']):>13}")
        self.line(f"{'total':<8}{'':>11}" + "".join(f"{money(totals[k]):>17}" for k in columns)
                  + f"{money(sum(totals.values())):>13}")

    def block(self, text: str) -> None:
        """A report's text, indented like the demo's own lines."""
        for line in text.splitlines():
            self.line(line) if line else self.stdout.write("")

    def heading(self, text: str) -> None:
        self.stdout.write(self.style.MIGRATE_HEADING(text))

    def line(self, text: str) -> None:
        self.stdout.write(f"   {text}")
