"""The distribution statement and an investor's statement as PDF documents (ReportLab), ready to post.

Renders what remittance.selectors.distribution_statement builds (the trust's statement) and what
remittance.selectors.reports.investor_statement builds with its `shares` (an investor's): tables of the
same figures the admin page, the API's JSON and the CSV show, money as dollars grouped by thousands,
per-$1,000 amounts to 8 decimals. No database and no Django: the values in, the PDF's bytes out, so the
admin's download and the API give the same document. The document's pieces (tables, headings, pages) are
ledger.pdf_documents', shared with the borrowers' statements.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledger.domain.money import dollars_grouped
from ledger.pdf_documents import pdf_document as _document
from ledger.pdf_documents import pdf_gap, pdf_paragraph
from ledger.pdf_documents import pdf_heading as _heading
from ledger.pdf_documents import pdf_table as _table

# The class lines' principal and loss columns, each `<key>_cents` (and its per-$1,000 `<key>_per_1000`).
CLASS_AMOUNTS = (("beginning", "balance_begin"), ("interest", "interest_paid"), ("shortfall", "interest_shortfall"),
                 ("scheduled", "principal_scheduled"), ("prepaid", "principal_prepaid"),
                 ("liquidated", "principal_liquidated"), ("principal", "principal_paid"),
                 ("loss", "loss_written_off"), ("ending", "balance_end"))


def _money(cents: int) -> str:
    return dollars_grouped(cents)


def statement_pdf(s: Mapping[str, Any]) -> bytes:
    """The trust's distribution statement for one period, as a PDF."""
    h = s["header"]
    story: list[Any] = [_table([
        ("Trust", "Period", "Record date", "Payment date", "Accrual period", "Issuer", "Servicer", "Trustee"),
        (f"{h['trust']} {h['name']}", h["period"], f"{h['record_date']:%Y-%m-%d}", f"{h['payment_date']:%Y-%m-%d}",
         f"{h['accrual_start']:%Y-%m-%d} to {h['accrual_end']:%Y-%m-%d} ({h['accrual_basis']})",
         h["issuer"], h["servicer"], h["trustee"])])]
    classes = s["classes"]
    story += _heading("Distribution by class (dollars)")
    story.append(_table([("class", "CUSIP", "rate %", "original face", *(label for label, _ in CLASS_AMOUNTS), "factor")]
                        + [(c["class"], c["cusip"] or "-", c["rate"], _money(c["original_face_cents"]),
                            *(_money(c[f"{key}_cents"]) for _, key in CLASS_AMOUNTS), c["factor"]) for c in classes]
                        + [("total", "", "", _money(s["class_totals"]["original_face_cents"]),
                            *(_money(s["class_totals"][f"{key}_cents"]) for _, key in CLASS_AMOUNTS), "")]))
    story += _heading("Per $1,000 of original face (8 decimals)")
    story.append(_table([("class", *(label for label, _ in CLASS_AMOUNTS))]
                        + [(c["class"], *(c[f"{key}_per_1000"] for _, key in CLASS_AMOUNTS)) for c in classes]))
    story += _heading("Credit enhancement (% of the pool: junior classes and overcollateralization)")
    story.append(_table([("class", "current %", "at issue %")]
                        + [(c["class"], c["credit_enhancement"], c["credit_enhancement_at_issue"]) for c in classes]))
    story += _deal(s) if "deal" in s else [pdf_paragraph(s["triggers"]["note"])]
    story += _pool(s)
    story += _delinquency_and_losses(s)
    story += _speeds(s["speeds"])
    story += _heading("Notes")
    story += [pdf_paragraph(text) for text in s["notes"].values()]
    return _document(f"Distribution statement {h['trust']} {h['period']}", story)


def _deal(s: Mapping[str, Any]) -> list[Any]:
    """A structured deal's section: each class's kind and accrual, the trustee fee, over-collateralisation,
    the reserve account, each trigger's test and the principal rule it chose, the clean-up call."""
    d = s["deal"]
    fee, oc, reserve, t = d["trustee_fee"], d["overcollateralization"], d["reserve"], d["triggers"]
    story = [*_heading("The deal's structure this period"), _table(
        [("class", "kind", "interest accrued to its balance")]
        + [(c["class"], c.get("kind", "standard"), _money(c.get("interest_accrued_cents", 0))) for c in s["classes"]]),
        pdf_gap(), _table([
            ("trustee fee due", "paid", "shortfall", "OC target", "OC at end", "OC release", "turbo principal",
             "loss absorbed by OC"),
            (_money(fee["due_cents"]), _money(fee["paid_cents"]), _money(fee["shortfall_cents"]),
             _money(oc["target_cents"]), _money(oc["end_cents"]), _money(oc["release_cents"]),
             _money(oc["turbo_principal_cents"]), _money(oc["loss_absorbed_cents"]))]),
        pdf_gap(), _table([
            ("reserve at start", "funded", "draw", "deposit", "released", "reserve at end"),
            tuple(_money(reserve[f"{key}_cents"]) for key in
                  ("balance_begin", "funded", "draw", "deposit", "released", "balance_end"))])]
    if t is not None:
        story += [pdf_gap(), _table(
            [("trigger test", "value %", "limit %", "result")]
            + [(x["label"], x["value"], x["limit"], "passed" if x["passed"] else "FAILED") for x in t["tests"]]),
            pdf_paragraph(f"Step-down date reached: {'yes' if t['stepdown_reached'] else 'no'}. A trigger failure "
                          f"in effect: {'yes' if t['in_effect'] else 'no'}. Principal paid {t['principal_rule']}.")]
    if d["call"]["retired"]:
        story.append(pdf_paragraph(f"The clean-up call retired every class; {_money(d['call']['written_off_cents'])} "
                                   "written off."))
    return story


def _pool(s: Mapping[str, Any]) -> list[Any]:
    p, c, k = s["pool"], s["collateral"], s["pool"]["principal_by_kind"]
    r = s["reconciliation"]
    return [*_heading("Pool and collateral at the period's end"), _table([
        ("original", "beginning", "ending", "factor", "scheduled principal", "prepaid", "liquidated",
         "loans", "WAC %", "WAM", "WALA", "average balance"),
        (_money(p["original_cents"]), _money(p["balance_begin_cents"]), _money(p["balance_end_cents"]), p["factor"],
         _money(k["scheduled_cents"]), _money(k["prepaid_cents"]), _money(k["liquidated_cents"]),
         c["loan_count"], c["wac"], c["wam"], c["wala"], _money(c["average_balance_cents"]))]),
        pdf_gap(), _table([
            ("servicing fee paid", "issuer spread paid", "paid to holders", "excess", "cash in", "reconciled"),
            (_money(s["servicing_fee"]["paid_cents"]), _money(s["issuer_spread"]["paid_cents"]),
             _money(r["paid_to_holders_cents"]), _money(r["excess_cents"]), _money(r["cash_in_cents"]),
             "yes" if r["reconciled"] else f"NO, off by {_money(r['difference_cents'])}")])]


def _delinquency_and_losses(s: Mapping[str, Any]) -> list[Any]:
    losses = s["losses"]
    story = [*_heading("Delinquency at the period's end (MBA)"), _table(
        [("status", "loans", "balance", "% of pool")]
        + [(row["status"], row["count"], _money(row["balance_cents"]), row["percent"]) for row in s["delinquency"]])]
    story += _heading("Realized losses")
    story.append(_table([("this period", "cumulative", "cumulative % of original"),
                         (_money(losses["period_cents"]), _money(losses["cumulative_cents"]),
                          losses["cumulative_percent_of_original"])]))
    if losses["loans"]:
        story.append(pdf_gap())
        story.append(_table([("loan", "date", "liquidation proceeds", "loss", "severity %")]
                            + [(x["loan"], f"{x['date']:%Y-%m-%d}", _money(x["liquidation_principal_cents"]),
                                _money(x["loss_cents"]), x["severity"]) for x in losses["loans"]]))
    return story


def _speeds(sp: Mapping[str, Any]) -> list[Any]:
    return [*_heading("Prepayment and default speeds (%)"), _table(
        [("window", "CPR voluntary", "CDR", "severity", "SMM voluntary", "MDR", "PSA voluntary")]
        + [(name, *(w[key] if w[key] is not None else "n/a" for key in
                    ("voluntary_cpr", "cdr", "severity", "voluntary_smm", "mdr", "voluntary_psa")))
           for name, w in sp["windows"].items()])]


# The investor's share columns, each `<key>_cents` (and its per-$1,000 `<key>_per_1000`).
SHARE_AMOUNTS = (("beginning face", "face_begin"), ("interest", "interest"), ("scheduled", "principal_scheduled"),
                 ("prepaid", "principal_prepaid"), ("liquidated", "principal_liquidated"),
                 ("principal", "principal"), ("loss", "loss"), ("total paid", "total"), ("ending face", "face_end"))


def investor_statement_pdf(s: Mapping[str, Any]) -> bytes:
    """An investor's statement for one period, their share of every line, as a PDF."""
    shares = s["shares"]
    story: list[Any] = [pdf_paragraph(f"{s['holder']['code']} {s['holder']['name']}: period {s['period']['period']}, "
                                      f"record date {s['period']['record_date']:%Y-%m-%d}")]
    story += _heading("Your share (dollars)")
    story.append(_table([("trust", "class", "CUSIP", "original face held", *(label for label, _ in SHARE_AMOUNTS),
                          "paid on")]
                        + [(x["trust"], x["class"], x["cusip"] or "-", _money(x["face_held_cents"]),
                            *(_money(x[f"{key}_cents"]) for _, key in SHARE_AMOUNTS), f"{x['payment_date']:%Y-%m-%d}")
                           for x in shares]))
    story += _heading("Per $1,000 of your original face (8 decimals)")
    story.append(_table([("trust", "class", *(label for label, _ in SHARE_AMOUNTS))]
                        + [(x["trust"], x["class"], *(x[f"{key}_per_1000"] for _, key in SHARE_AMOUNTS))
                           for x in shares]))
    t = s["totals"]
    story += _heading("Totals")
    story.append(_table([("interest", "principal", "total"),
                         tuple(_money(t[f"{part}_cents"]) for part in ("interest", "principal", "total"))]))
    return _document(f"Investor statement {s['holder']['code']} {s['period']['period']}", story)
