"""The reports' renderers on plain values, without a database: JSON-safe values, CSV and text tables."""
import json
from datetime import date

from remittance.domain.report_formats import RENDERERS, report_csv, statement_csv, statement_table, to_json

STATEMENT = {
    "holder": {"code": "INV-01", "name": "Investor One"},
    "period": {"period": "2026-02", "record_date": date(2026, 2, 27)},
    "distributions": [{"trust": "XYZ-2026-1", "class": "A", "face_held_cents": 10_000_000, "factor": "0.99000000",
                       "interest_cents": 41_667, "principal_cents": 100_000, "total_cents": 141_667,
                       "payment_date": date(2026, 3, 25)}],
    "totals": {"interest_cents": 41_667, "principal_cents": 100_000, "total_cents": 141_667},
    "holdings": [{"trust": "XYZ-2026-1", "class": "A", "face_held_cents": 10_000_000}],
}


def test_json_writes_cents_as_dollar_strings_without_the_suffix_and_dates_iso():
    rendered = to_json(STATEMENT)
    assert rendered["distributions"][0] == {
        "trust": "XYZ-2026-1", "class": "A", "face_held": "100000.00", "factor": "0.99000000",
        "interest": "416.67", "principal": "1000.00", "total": "1416.67", "payment_date": "2026-03-25"}
    assert rendered["period"] == {"period": "2026-02", "record_date": "2026-02-27"}
    assert to_json({"difference_cents": -5, "reconciled": True, "count": 3}) == {
        "difference": "-0.05", "reconciled": True, "count": 3}
    assert json.loads(RENDERERS["statement"]["json"](STATEMENT)) == rendered


def test_the_statement_csv_has_a_line_per_distribution_a_total_and_a_line_per_holding():
    assert statement_csv(STATEMENT).splitlines() == [
        "line,trust,class,face_held,factor,interest,principal,total,payment_date",
        "distribution,XYZ-2026-1,A,100000.00,0.99000000,416.67,1000.00,1416.67,2026-03-25",
        "total,,,,,416.67,1000.00,1416.67,",
        "holding,XYZ-2026-1,A,100000.00,,,,,",
    ]


def test_the_report_csv_names_a_class_s_items_by_the_class_and_writes_booleans_as_words():
    report = {"classes": [{"class": "A1", "coupon": "4.25", "balance_end_cents": 123}],
              "reconciliation": {"difference_cents": 0, "reconciled": True}}
    assert report_csv(report).splitlines() == [
        "section,item,value",
        "classes,A1.coupon,4.25",
        "classes,A1.balance_end,1.23",
        "reconciliation,difference,0.00",
        "reconciliation,reconciled,true",
    ]


def test_the_statement_table_groups_thousands_and_aligns_names_left_and_amounts_right():
    lines = statement_table(STATEMENT).splitlines()
    assert lines[:3] == ["Investor statement INV-01 Investor One", "Period 2026-02  record date 2026-02-27", ""]
    header, line, total = lines[3:6]
    assert header.split() == ["trust", "class", "face", "held", "interest", "principal", "total", "factor", "paid",
                              "on"]
    assert line.split() == ["XYZ-2026-1", "A", "100,000.00", "416.67", "1,000.00", "1,416.67", "0.99000000",
                            "2026-03-25"]
    assert total.split() == ["total", "416.67", "1,000.00", "1,416.67"]
    # Amounts right-aligned: the total line's amounts end where the distribution's do.
    for amount in ("416.67", "1,000.00", "1,416.67"):
        assert line.index(amount) + len(amount) == total.index(amount) + len(amount)
    assert lines[6:] == ["", "Holdings on 2026-02-27 (original face)",
                         "  trust       class   face held",
                         "  XYZ-2026-1  A      100,000.00"]
