"""The distribution statement and the investor's statement through the API: JSON, CSV and PDF (?format=pdf),
404s answered in JSON, the holder's share of losses in /me/distributions/."""
import io

import pypdf
import pytest
from django.db.models import Sum

from remittance.models import ClassPeriod
from tests.integration.trusts.deals import TRUST

pytestmark = pytest.mark.django_db


def pdf_text(response) -> str:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) >= 1
    return "\n".join(page.extract_text() for page in reader.pages)


def test_the_trusts_statement_in_json_csv_and_pdf(alice):
    url = f"/api/v1/trusts/{TRUST}/statements/2026-02/"
    data = alice.get(url).json()
    [a] = data["classes"]
    assert (a["class"], a["principal_paid"], a["principal_scheduled"], a["principal_prepaid"]) == (
        "A", "995.50", "995.50", "0.00")
    assert a["principal_paid_per_1000"] == "0.99550000" and a["interest_paid_per_1000"] == "4.00000000"
    assert (a["accrual_start"], a["accrual_end"], a["rate"]) == ("2026-02-01", "2026-02-28", "4.8000")
    assert data["collateral"]["loan_count"] == 10 and data["collateral"]["balance"] == "999004.50"
    assert [r["count"] for r in data["delinquency"]] == [10, 0, 0, 0, 0, 0, 0]
    assert data["losses"] == {"period": "0.00", "cumulative": "0.00", "cumulative_percent_of_original": "0.0000",
                              "loans": []}
    csv_text = alice.get(url, {"format": "csv"}).content.decode()
    assert "classes,A.principal_paid_per_1000,0.99550000" in csv_text
    text = pdf_text(alice.get(url, {"format": "pdf"}))
    assert "0.99550000" in text and "999,004.50" in text and "Distribution statement XYZ-2026-1 2026-02" in text
    # The report's PDF is the statement's; by the Accept header too.
    assert "0.99550000" in pdf_text(alice.get(f"/api/v1/trusts/{TRUST}/reports/2026-02/", {"format": "pdf"}))
    assert pdf_text(alice.get(url, HTTP_ACCEPT="application/pdf"))


def test_the_investors_statement_has_their_shares_and_a_pdf(alice):
    data = alice.get("/api/v1/me/statements/2026-02/").json()
    [share] = data["shares"]
    assert (share["face_held"], share["face_begin"], share["interest"], share["principal"], share["loss"],
            share["face_end"]) == ("100000.00", "100000.00", "400.00", "99.55", "0.00", "99900.45")
    assert share["principal_scheduled"] == "99.55" and share["interest_per_1000"] == "4.00000000"
    text = pdf_text(alice.get("/api/v1/me/statements/2026-02/", {"format": "pdf"}))
    assert "Your share" in text and "99,900.45" in text and "4.00000000" in text


def test_a_pdf_of_nothing_answers_404_in_json(alice):
    for url in (f"/api/v1/trusts/{TRUST}/statements/2026-07/", "/api/v1/me/statements/2026-07/",
                f"/api/v1/trusts/{TRUST}/reports/2026-07/"):
        response = alice.get(url, {"format": "pdf"})
        assert response.status_code == 404 and response.json()["error"]["code"] == "report_unavailable", url


def test_distributions_show_no_loss_where_the_class_lost_nothing(alice):
    rows = alice.get("/api/v1/me/distributions/").json()["results"]
    assert rows and all(row["loss"] == "0.00" for row in rows)
    assert ClassPeriod.objects.aggregate(t=Sum("loss_written_off_cents"))["t"] == 0
