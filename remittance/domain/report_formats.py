"""The closed period's reports rendered: the remittance report, the investor statement and the factor
file as JSON-safe values, CSV and text tables for people.

The reports come as remittance.selectors.reports builds them: plain dicts with money in integer cents
under keys ending in `_cents`, dates as `date`, rates and factors as strings. `to_json` writes money as
dollar strings ("4995.50") under the key without the `_cents` suffix and dates in ISO; CSV writes the
same values ("4995.50"); the text tables group the thousands ("4,995.50"). `RENDERERS` names each
report's formats for the commands (remittance.management.report_command).

Pure: no database and no Django; a renderer takes the report's values, never a model, so the same
report renders the same bytes in the commands, the admin's downloads, the API and the demo.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from ledger.domain.money import dollars, dollars_grouped

# A report, a statement or one of their sections or rows, as the selectors build it.
Report = Mapping[str, Any]

CENTS_SUFFIX = "_cents"
# A class's money in the remittance report, in the order of its columns (each under `<name>_cents`).
CLASS_FIELDS = ("balance_begin", "interest_due", "interest_paid", "interest_shortfall", "principal_paid",
                "loss_written_off", "balance_end")


# ------------------------------------------------------------------ JSON


def to_json(value: Any, key: str = "") -> Any:
    """JSON-safe values: `_cents` money as dollar strings under the key without the suffix, dates ISO."""
    if isinstance(value, dict):
        return {k.removesuffix(CENTS_SUFFIX): to_json(v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v, key) for v in value]
    if key.endswith(CENTS_SUFFIX) and isinstance(value, int) and not isinstance(value, bool):
        return dollars(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def report_json(report: Report) -> Any:
    """The remittance report as JSON-safe values (money "4995.50", factors and rates as strings)."""
    return to_json(report)


def json_text(data: Any) -> str:
    """Any report as indented JSON text, one line at the end (the commands' and the admin's download)."""
    return json.dumps(to_json(data), indent=2) + "\n"


# ------------------------------------------------------------------ CSV


def report_csv(report: Report) -> str:
    """The remittance report (or the distribution statement) as `section,item,value` rows; a class's items
    are prefixed with its name, a list's other entries with their first value."""
    rows = [{"section": section, "item": item, "value": value}
            for section, body in report_json(report).items() for item, value in _flatten(body)]
    return _csv(rows, ("section", "item", "value"))


def _flatten(body: Any, prefix: str = "") -> Iterable[tuple[str, object]]:
    """(item, value) pairs of a JSON-safe section: nested keys joined by dots, a list's entries by their class."""
    if isinstance(body, dict):
        for key, value in body.items():
            yield from _flatten(value, f"{prefix}{key}.")
    elif isinstance(body, list):
        for entry in body:
            # An entry is named by its class, or else by its first value (a delinquency row's status, a loan).
            name = "class" if "class" in entry else next(iter(entry))
            yield from _flatten({k: v for k, v in entry.items() if k != name}, f"{prefix}{entry[name]}.")
    else:
        yield prefix.rstrip("."), ("true" if body else "false") if isinstance(body, bool) else body


STATEMENT_COLUMNS = ("line", "trust", "class", "face_held", "factor", "interest", "principal", "total",
                     "payment_date")


def statement_csv(statement: Report) -> str:
    """The statement as one table: a `distribution` line per payment, a `total` line, a `holding` line each."""
    s = to_json(statement)
    rows = ([{"line": "distribution", **d} for d in s["distributions"]] + [{"line": "total", **s["totals"]}]
            + [{"line": "holding", **h} for h in s["holdings"]])
    return _csv(rows, STATEMENT_COLUMNS)


# The loan-level investor reporting file's layout (remittance.selectors.loan_level documents each column).
LOAN_LEVEL_COLUMNS = (
    "loan_number", "period", "in_pool_at_start", "upb_begin", "upb_end", "note_rate", "net_rate", "scheduled_pi",
    "interest_remitted", "scheduled_principal_remitted", "curtailment", "payoff_principal", "repurchase_principal",
    "liquidation_proceeds", "realized_loss", "pi_remitted", "prior_period", "next_due_date", "days_delinquent",
    "delinquency_bucket", "status", "loss_mitigation", "modified", "bankruptcy_chapter", "deferred_principal",
)


def loan_level_csv(rows: Sequence[Report]) -> str:
    """The loan-level file as CSV: a row per loan in LOAN_LEVEL_COLUMNS, then the TOTAL row."""
    return _csv([{k: _csv_cell(v) for k, v in row.items()} for row in to_json(rows)], LOAN_LEVEL_COLUMNS)


def _csv_cell(value: object) -> object:
    return ("true" if value else "false") if isinstance(value, bool) else value


FACTOR_COLUMNS = ("trust", "class", "period", "payment_date", "factor", "balance", "original_face")


def factor_file_csv(rows: Sequence[Report]) -> str:
    """The factor file as CSV: a row per class and one per pool."""
    return _csv(to_json(rows), FACTOR_COLUMNS)


def _csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


# ------------------------------------------------------------------ text tables


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]], left: int = 1) -> list[str]:
    """Columns for people, indented: the first `left` columns (names) left-aligned, the amounts right-aligned."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]
    return ["  " + "  ".join(f"{cell:<{w}}" if i < left else f"{cell:>{w}}"
                             for i, (cell, w) in enumerate(zip(map(str, line), widths))).rstrip()
            for line in (headers, *rows)]


def _amounts(pairs: Iterable[tuple[str, int]]) -> list[tuple[str, str]]:
    return [(label, dollars_grouped(cents)) for label, cents in pairs]


def report_table(report: Report) -> str:
    """The remittance report as text for people."""
    h, c, a, r = report["header"], report["collections"], report["advances"], report["reconciliation"]
    lines = [f"Remittance report {h['trust']} {h['name']}",
             f"Period {h['period']}  record date {h['record_date']:%Y-%m-%d}  payment date "
             f"{h['payment_date']:%Y-%m-%d}  {h['remittance_type']}", "", "Collections"]
    lines += _table(("kind", "amount"), _amounts(
        [(k.removesuffix(CENTS_SUFFIX).replace("_", " "), v) for k, v in c["by_kind"].items()]
        + [("cash collected", c["cash_cents"]), ("of which prior-period items", c["prior_period_cents"]),
           ("returns recovered from earlier closes", c["returns_carried_in_cents"]),
           ("returns carried to the next close", c["returns_carried_out_cents"])]))
    lines += ["", "Advances"] + _table(("", "amount"), _amounts([
        ("advanced", a["advanced_cents"]), ("recovered", a["recovered_cents"]),
        ("outstanding interest", a["outstanding_interest_cents"]),
        ("outstanding principal", a["outstanding_principal_cents"])]))
    lines += ["", "Fees"] + _table(("", "this period", "carried", "due", "paid", "shortfall"), [
        (label, *(dollars_grouped(report[key][f"{part}_cents"])
                  for part in ("this_period", "carried", "due", "paid", "shortfall")))
        for label, key in (("servicing fee", "servicing_fee"), ("issuer spread", "issuer_spread"))])
    lines += ["", "Classes"] + _class_table(report["classes"]) + ["", *_closing_lines(report), _reconciled(r)]
    if "deal" in report:
        lines += ["", *deal_lines(report["deal"])]
    return "\n".join(lines) + "\n"


def deal_lines(deal: Report) -> list[str]:
    """A structured deal's section as text: trustee fee, accrual, over-collateralisation, reserve, triggers, call."""
    fee, oc, reserve, call = deal["trustee_fee"], deal["overcollateralization"], deal["reserve"], deal["call"]
    lines = [f"The deal (period {deal['period_number']})"]
    lines += _table(("", "amount"), _amounts([
        ("trustee fee due", fee["due_cents"]), ("trustee fee paid", fee["paid_cents"]),
        ("trustee fee shortfall", fee["shortfall_cents"]), ("accrual paid as principal", deal["accrual_cents"]),
        ("OC target", oc["target_cents"]), ("OC at the period's end", oc["end_cents"]),
        ("OC release", oc["release_cents"]), ("turbo principal", oc["turbo_principal_cents"]),
        ("loss absorbed by OC", oc["loss_absorbed_cents"]),
        ("reserve at the start", reserve["balance_begin_cents"]), ("reserve funded", reserve["funded_cents"]),
        ("reserve draw", reserve["draw_cents"]), ("reserve deposit", reserve["deposit_cents"]),
        ("reserve released", reserve["released_cents"]), ("reserve at the end", reserve["balance_end_cents"]),
        ("cumulative loss", deal["cumulative_loss_cents"]), ("written off by the call", call["written_off_cents"])]))
    t = deal["triggers"]
    if t is not None:
        lines += ["Triggers"] + _table(("test", "value %", "limit %", "result"), [
            (test["label"], test["value"], test["limit"], "passed" if test["passed"] else "FAILED")
            for test in t["tests"]])
        lines.append(f"  step-down reached: {'yes' if t['stepdown_reached'] else 'no'}; failure in effect: "
                     f"{'yes' if t['in_effect'] else 'no'}; principal paid {t['principal_rule']}")
    if call["retired"]:
        lines.append("  The clean-up call retired every class this period.")
    return lines


def _reconciled(r: Report) -> str:
    parts = " + ".join(f"{label} {dollars_grouped(r[key])}" for label, key in (
        ("fee", "servicing_fee_cents"), ("spread", "issuer_spread_cents"), ("holders", "paid_to_holders_cents"),
        ("excess", "excess_cents"), ("retained", "retained_cents")))
    verdict = "reconciled" if r["reconciled"] else f"NOT reconciled, off by {dollars_grouped(r['difference_cents'])}"
    return (f"Reconciliation: cash in {dollars_grouped(r['cash_in_cents'])} = {parts} = "
            f"{dollars_grouped(r['out_cents'])}: {verdict}")


def _class_table(classes: Sequence[Report]) -> list[str]:
    headers = ("class", "coupon", "beginning", "interest due", "interest paid", "shortfall", "principal",
               "loss", "ending", "factor")
    return _table(headers, [(c["class"], c["coupon"], *(dollars_grouped(c[f"{n}_cents"]) for n in CLASS_FIELDS),
                             c["factor"]) for c in classes], left=2)


def _closing_lines(report: Report) -> list[str]:
    e, p, h = report["excess"], report["pool"], report["holders"]
    return [
        f"Excess to {e['residual_holder']}: {dollars_grouped(e['total_cents'])} "
        f"(interest {dollars_grouped(e['interest_cents'])}, principal {dollars_grouped(e['principal_cents'])})",
        f"Retained in the trust (unplaced bonds' share): {dollars_grouped(report['retained']['unplaced_share_cents'])}",
        f"Pool balance {dollars_grouped(p['balance_begin_cents'])} -> {dollars_grouped(p['balance_end_cents'])} "
        f"of {dollars_grouped(p['original_cents'])}, factor {p['factor']}",
        f"Weighted average note rate {p['weighted_note_rate']}%, net rate {p['weighted_net_rate']}%",
        _speeds_line(report["speeds"]),
        f"Paid to {h['holders_paid']} holders ({h['payments']} payments): {dollars_grouped(h['paid_cents'])}",
    ]


def _speeds_line(sp: Report) -> str:
    psa = "n/a" if sp["psa"] is None else f"{sp['psa']}%"
    total = (f"Realized speeds (loan month {sp['loan_month']}): SMM {sp['smm']}%, CPR {sp['cpr']}%, PSA {psa} "
             f"(end balance {dollars_grouped(sp['actual_end_cents'])} against "
             f"{dollars_grouped(sp['scheduled_end_cents'])} scheduled)")
    windows = _table(("window", *SPLIT_HEADERS), [(name, *(_percent(w[key]) for key in SPLIT_KEYS))
                                                  for name, w in sp["windows"].items()])
    return "\n".join([total, f"Voluntary prepayments {dollars_grouped(sp['voluntary_cents'])}, defaulted "
                              f"{dollars_grouped(sp['defaulted_cents'])}, loss {dollars_grouped(sp['loss_cents'])}:",
                       *windows])


# The voluntary and default rates of the report's speed windows (remittance.selectors.reports.split_fields).
SPLIT_KEYS = ("voluntary_smm", "voluntary_cpr", "voluntary_psa", "mdr", "cdr", "severity")
SPLIT_HEADERS = ("SMM vol %", "CPR vol %", "PSA vol %", "MDR %", "CDR %", "severity %")


def _percent(value: str | None) -> str:
    return "n/a" if value is None else value


def statement_table(statement: Report) -> str:
    """The investor statement as text for people."""
    s, t = statement, statement["totals"]
    lines = [f"Investor statement {s['holder']['code']} {s['holder']['name']}",
             f"Period {s['period']['period']}  record date {s['period']['record_date']:%Y-%m-%d}", ""]
    rows = [(d["trust"], d["class"], *(dollars_grouped(d[f"{n}_cents"]) for n in ("face_held", "interest",
                                                                                  "principal", "total")),
             d["factor"], f"{d['payment_date']:%Y-%m-%d}") for d in s["distributions"]]
    rows.append(("total", "", "", *(dollars_grouped(t[f"{n}_cents"]) for n in ("interest", "principal", "total")),
                 "", ""))
    lines += _table(("trust", "class", "face held", "interest", "principal", "total", "factor", "paid on"), rows,
                    left=2)
    lines += ["", f"Holdings on {s['period']['record_date']:%Y-%m-%d} (original face)"]
    lines += _table(("trust", "class", "face held"),
                    [(h["trust"], h["class"], dollars_grouped(h["face_held_cents"])) for h in s["holdings"]], left=2)
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ by report

# Each report's formats, by the name the commands' --format takes.
RENDERERS: dict[str, dict[str, Callable[[Any], str]]] = {
    "report": {"table": report_table, "csv": report_csv, "json": json_text},
    "statement": {"table": statement_table, "csv": statement_csv, "json": json_text},
    "factors": {"csv": factor_file_csv, "json": json_text},
    "loan_level": {"csv": loan_level_csv, "json": json_text},
}
