"""The distribution statement over the demo's year: every figure reconciled to the close, the pool as of the
period's end (not today), the holders' shares, and the four forms (the selector, CSV, PDF, the API).

One run of the demo (a year, a foreclosure in August 2026 liquidated in September with a loss of 31,527.28,
four sequential classes with CUSIPs) is shared by the checks of each test below.
"""
import csv
import io
from fractions import Fraction

import pypdf
import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.urls import reverse

from ledger.domain.money import dollars_grouped
from remittance.domain.report_formats import report_csv, to_json
from remittance.domain.statement_figures import PRINCIPAL_KINDS, UNPLACED, holder_shares
from remittance.models import ClassPeriod, Distribution, PeriodResult
from remittance.selectors.distribution_statement import (
    distribution_statement,
    holder_losses,
    investor_statement_with_shares,
)
from remittance.statement_pdf import investor_statement_pdf, statement_pdf
from servicing.models import LoanPosition, LoanStatus
from trusts.models import SecurityClass
from trusts.selectors import holders_of_record_by_class_id

pytestmark = pytest.mark.django_db
SEED, SEQ = "XYZ-2026-1", "SEQ-2026-1"
PERIODS = [f"2026-{m:02d}" for m in range(2, 13)] + ["2027-01"]


@pytest.fixture
def year(capsys):
    call_command("demo")
    capsys.readouterr()


def exact(numerator: int, denominator: int, places: int) -> str:
    """A ratio computed another way: a Fraction, rounded half up at `places` decimals (non-negative here)."""
    value = Fraction(numerator, denominator) * 10 ** places
    whole = int(value) + (1 if value - int(value) >= Fraction(1, 2) else 0)
    return f"{whole // 10 ** places}.{whole % 10 ** places:0{places}d}"


def exact_per_thousand(cents: int, face_cents: int) -> str:
    """The convention: dollars per $1,000 of original face = cents * 1000 / face cents, 8 decimals."""
    return exact(cents * 1000, face_cents, 8)


def test_every_figure_reconciles_to_the_close_in_every_period(year):
    for trust in (SEED, SEQ):
        for period in PERIODS:
            s = distribution_statement(trust, period)
            result = PeriodResult.objects.get(trust__code=trust, period=period)
            closed = result.period_closed
            rows = {r.security_class.name: r for r in ClassPeriod.objects.filter(
                security_class__trust__code=trust, period=period).select_related("security_class")}
            for c in s["classes"]:
                row = rows[c["class"]]
                # Each class line is its ClassPeriod; its principal split sums to its principal paid.
                assert (c["balance_begin_cents"], c["principal_paid_cents"], c["loss_written_off_cents"],
                        c["balance_end_cents"]) == (row.balance_begin_cents, row.principal_paid_cents,
                                                    row.loss_written_off_cents, row.balance_end_cents)
                assert sum(c[f"principal_{k}_cents"] for k in PRINCIPAL_KINDS) == c["principal_paid_cents"]
                for key in ("balance_begin", "interest_paid", "principal_scheduled", "loss_written_off", "balance_end"):
                    assert c[f"{key}_per_1000"] == exact_per_thousand(c[f"{key}_cents"], c["original_face_cents"])
                assert (c["accrual_start"], c["accrual_end"]) == (s["header"]["accrual_start"], s["header"]["accrual_end"])
            # The class totals are the sums of the lines and the close's.
            totals = s["class_totals"]
            assert totals["principal_paid_cents"] == sum(c.principal_paid_cents for c in closed.classes)
            assert totals["loss_written_off_cents"] == sum(c.loss_written_off_cents for c in closed.classes)
            assert sum(totals[f"principal_{k}_cents"] for k in PRINCIPAL_KINDS) == totals["principal_paid_cents"]
            assert totals["original_face_cents"] == sum(
                SecurityClass.objects.filter(trust__code=trust).values_list("original_face_cents", flat=True))
            # The pool: its principal by kind is the close's collections; collateral and delinquency the end balance.
            kinds = s["pool"]["principal_by_kind"]
            assert kinds["scheduled_cents"] == closed.collected["scheduled_principal"]
            assert kinds["liquidated_cents"] == closed.collected["liquidation_principal"]
            assert s["collateral"]["balance_cents"] == closed.pool_balance_end_cents
            assert sum(r["balance_cents"] for r in s["delinquency"]) == closed.pool_balance_end_cents
            assert sum(r["count"] for r in s["delinquency"]) == s["collateral"]["loan_count"]
            # Losses: the period's is the close's; the loan detail adds up to the cumulative.
            losses = s["losses"]
            assert losses["period_cents"] == closed.realized_loss_cents
            assert losses["cumulative_cents"] == PeriodResult.objects.filter(
                trust__code=trust, period__lte=period).aggregate(t=Sum("realized_loss_cents"))["t"]
            assert sum(x["loss_cents"] for x in losses["loans"]) == losses["cumulative_cents"]
            assert s["reconciliation"]["reconciled"] is True


def test_the_pool_is_as_of_the_periods_end_not_today(year):
    # L004 is liquidated now; at the end of August it was in foreclosure, and the August statement says so.
    assert LoanPosition.objects.get(loan_id="L004").status == LoanStatus.LIQUIDATED
    august = distribution_statement(SEED, "2026-08")
    rows = {r["status"]: r for r in august["delinquency"]}
    assert rows["foreclosure"]["count"] == 1
    september = distribution_statement(SEED, "2026-09")
    assert {r["status"]: r["count"] for r in september["delinquency"]}["foreclosure"] == 0
    assert september["collateral"]["loan_count"] == august["collateral"]["loan_count"] - 1
    # The loss, loan by loan, with its severity; the class took it and the statement shows it per $1,000.
    [loan] = september["losses"]["loans"]
    assert (loan["loan"], loan["loss_cents"]) == ("L004", 3_152_728)
    assert loan["severity"] == exact(3_152_728 * 100, loan["liquidation_principal_cents"] + 3_152_728, 4)
    [a] = september["classes"]
    assert a["loss_written_off_cents"] == 3_152_728 and a["loss_written_off_per_1000"] == "31.52728000"
    assert a["principal_liquidated_cents"] > 0


def test_the_holders_shares_sum_to_each_class_figure(year):
    period = "2026-09"
    rows = list(Distribution.objects.filter(security_class__trust__code=SEED, period=period)
                .values("id", "holder__code", "security_class_id", "period", "record_date"))
    losses = holder_losses(rows)
    security = SecurityClass.objects.get(trust__code=SEED, name="A")
    held = holders_of_record_by_class_id(class_ids=[security.pk], record_date=rows[0]["record_date"])[security.pk]
    unplaced = holder_shares(3_152_728, held, security.original_face_cents).get(UNPLACED, 0)
    assert sum(losses.values()) + unplaced == 3_152_728  # the class's loss, split exactly
    statement = investor_statement_with_shares("INV-01", period)
    mine = next(x for x in statement["shares"] if x["trust"] == SEED)
    assert mine["loss_cents"] == losses[next(r["id"] for r in rows if r["holder__code"] == "INV-01")]
    assert mine["face_end_cents"] == mine["face_begin_cents"] - mine["principal_cents"] - mine["loss_cents"]
    assert sum(mine[f"principal_{k}_cents"] for k in PRINCIPAL_KINDS) == mine["principal_cents"]
    assert mine["loss_per_1000"] == exact_per_thousand(mine["loss_cents"], mine["face_held_cents"])
    # Across the SEQ deal's holders of A1, the beginning faces, principal and losses add up with the unplaced bonds'.
    a1 = SecurityClass.objects.get(trust__code=SEQ, name="A1")
    row = ClassPeriod.objects.get(security_class=a1, period=period)
    holders = holders_of_record_by_class_id(class_ids=[a1.pk], record_date=rows[0]["record_date"])[a1.pk]
    assert sum(holder_shares(row.balance_begin_cents, holders, a1.original_face_cents).values()) \
        == row.balance_begin_cents
    paid = Distribution.objects.filter(security_class=a1, period=period).aggregate(p=Sum("principal_cents"))["p"]
    assert paid == row.principal_paid_cents  # A1 is fully placed


def test_the_four_forms_show_the_same_figures(year, client, django_user_model):
    s = distribution_statement(SEQ, "2026-09")
    assert [c["cusip"] for c in s["classes"]] == ["78449AAA0", "78449AAB8", "78449AAC6", "78449AAD4"]
    data = to_json(s)
    rows = list(csv.DictReader(io.StringIO(report_csv(s))))
    values = {(r["section"], r["item"]): r["value"] for r in rows}
    a2 = next(c for c in data["classes"] if c["class"] == "A2")
    assert values[("classes", "A2.principal_paid_per_1000")] == a2["principal_paid_per_1000"]
    assert values[("classes", "A2.cusip")] == "78449AAB8"
    assert values[("delinquency", "current.count")] == str(data["delinquency"][0]["count"])
    pdf = statement_pdf(s)
    assert pdf.startswith(b"%PDF")
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 1
    text = "\n".join(page.extract_text() for page in reader.pages)
    for figure in ("78449AAB8", a2["principal_paid_per_1000"], a2["rate"], data["collateral"]["wac"],
                   "Delinquency at the period's end", "Credit enhancement",
                   dollars_grouped(s["pool"]["balance_end_cents"]),
                   dollars_grouped(next(c for c in s["classes"] if c["class"] == "A2")["principal_paid_cents"])):
        assert figure in text, figure
    investor = investor_statement_pdf(investor_statement_with_shares("INV-01", "2026-09"))
    investor_text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(investor)).pages)
    assert "Your share" in investor_text and "78449AAA0" in investor_text
    # The admin page and its PDF download.
    admin = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw")
    client.force_login(admin)
    url = reverse("admin:remittance_statement", args=[SEQ, "2026-09"])
    html = client.get(url).content.decode()
    for section in ("statement-classes", "statement-per-thousand", "statement-delinquency", "statement-losses",
                    "statement-collateral", "statement-credit-enhancement", "78449AAD4"):
        assert section in html
    download = client.get(url, {"format": "pdf"})
    assert download["Content-Type"] == "application/pdf" and download.content.startswith(b"%PDF")
    report = client.get(reverse("admin:remittance_report", args=[SEQ, "2026-09"]), {"format": "pdf"})
    assert report.content == download.content or report.content.startswith(b"%PDF")
