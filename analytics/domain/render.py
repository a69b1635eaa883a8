"""A projection written out: JSON (the issue's shape), CSV (one long table) or a table for people.

Money is a decimal string in dollars ("4995.50"); SMM is the month's rate
in percent; measures are decimal strings at the precision the standard
prints them (price 4 decimals, yield and durations 5, convexity 4), or
null when a class has none. Periods are numbered from 1, the first
projected month.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence

from analytics.domain.deal_projection import ClassMeasures, DealProjection
from analytics.domain.structure import StructuredMonth
from ledger.domain.money import cents_from_dollars, dollars, dollars_grouped

COLLATERAL_FIELDS = ("balance_begin", "smm", "scheduled_principal", "prepayment", "default", "loss", "recovery",
                     "interest_net", "principal", "cash_flow")
CLASS_FIELDS = ("balance_begin", "interest", "principal", "loss", "balance_end")
MEASURE_FIELDS = ("wal_years", "final_period", "yield", "price", "modified_duration", "convexity")
# A row as JSON and CSV write it: the period a number, the amounts and rates decimal strings.
Row = dict[str, int | str]
# A class's measures: decimal strings, the final period a number, None where the class has none.
Measures = dict[str, str | int | None]
CSV_HEADER = ("record", "name", "period", "balance_begin", "smm", "scheduled_principal", "prepayment", "default",
              "loss", "recovery", "interest", "principal", "cash_flow", "balance_end", *MEASURE_FIELDS)


def render(projection: DealProjection, output_format: str) -> str:
    if output_format == "json":
        return json.dumps(as_json(projection), indent=2)
    if output_format == "csv":
        return as_csv(projection)
    return as_table(projection)


# ------------------------------------------------------------------ JSON


def as_json(projection: DealProjection) -> dict[str, object]:
    return {
        "collateral": {
            "wal_years": _measure(projection.collateral_wal_years, 5),
            "periods": [collateral_row(m) for m in projection.months],
        },
        "classes": {name: {**measure_fields(projection.classes[name]),
                           "periods": [class_row(m, name) for m in projection.months]}
                    for name in projection.class_names},
    }


def collateral_row(month: StructuredMonth) -> Row:
    return {"period": month.period, **_collateral_amounts(month)}


def _collateral_amounts(month: StructuredMonth) -> dict[str, str]:
    """The collateral's row but its period: all text, which the table groups as it is."""
    principal = month.total("principal_cents")
    return {
        "balance_begin": dollars(month.total("balance_begin_cents")),
        "smm": f"{month.smm * 100:.6f}",
        "scheduled_principal": dollars(month.total("scheduled_principal_cents")),
        "prepayment": dollars(month.total("prepayment_cents")),
        "default": dollars(month.total("default_cents")),
        "loss": dollars(month.total("loss_cents")),
        "recovery": dollars(month.total("recovery_cents")),
        "interest_net": dollars(month.interest_net_cents),
        "principal": dollars(principal),
        "cash_flow": dollars(principal + month.interest_net_cents),
    }


def class_row(month: StructuredMonth, name: str) -> Row:
    return {"period": month.period, **_class_amounts(month, name)}


def _class_amounts(month: StructuredMonth, name: str) -> dict[str, str]:
    """The class's row but its period: all text, which the table groups as it is."""
    r = month.waterfall.for_class(name)
    return {
        "balance_begin": dollars(r.balance_begin_cents),
        "interest": dollars(r.interest_paid_cents), "principal": dollars(r.principal_paid_cents),
        "loss": dollars(r.loss_written_off_cents), "balance_end": dollars(r.balance_end_cents),
    }


def measure_fields(m: ClassMeasures) -> Measures:
    return {
        "wal_years": _measure(m.wal_years, 5), "final_period": m.final_period,
        "yield": _measure(m.yield_percent, 5), "price": _measure(m.price, 4),
        "modified_duration": _measure(m.modified_duration, 5), "convexity": _measure(m.convexity, 4),
    }


def _measure(value: float | None, places: int) -> str | None:
    return None if value is None else f"{value:.{places}f}"


# ------------------------------------------------------------------- CSV


def as_csv(projection: DealProjection) -> str:
    """One long table: a row per collateral period, per class period, and per set of measures."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_HEADER, restval="", lineterminator="\n")
    writer.writeheader()
    for month in projection.months:
        row = collateral_row(month)
        row["interest"] = row.pop("interest_net")
        row["balance_end"] = dollars(month.total("balance_end_cents"))
        writer.writerow({"record": "collateral", "name": "", **row})
    for name in projection.class_names:
        for month in projection.months:
            writer.writerow({"record": "class", "name": name, **class_row(month, name)})
    writer.writerow({"record": "measures", "name": "", "wal_years": _measure(projection.collateral_wal_years, 5)})
    for name in projection.class_names:
        writer.writerow({"record": "measures", "name": name, **measure_fields(projection.classes[name])})
    return out.getvalue()


# ----------------------------------------------------------------- table


def as_table(projection: DealProjection) -> str:
    lines = _measures_table(projection) + [""] + _collateral_table(projection)
    for name in projection.class_names:
        lines += ["", f"Class {name}"] + _class_table(projection, name)
    return "\n".join(lines)


def _measures_table(projection: DealProjection) -> list[str]:
    rows: list[tuple[str, ...]] = [
        ("", "WAL (yrs)", "final", "yield %", "price", "mod dur", "convexity"),
        ("collateral", _text(_measure(projection.collateral_wal_years, 5)), "", "", "", "", ""),
    ]
    for name in projection.class_names:
        m = measure_fields(projection.classes[name])
        rows.append((name, *(_text(m[f]) for f in MEASURE_FIELDS)))
    return _aligned(rows)


def _collateral_table(projection: DealProjection) -> list[str]:
    rows: list[tuple[str, ...]] = [("period", "balance", "SMM %", "scheduled", "prepaid", "defaulted", "loss",
                                    "recovered", "net interest", "cash flow")]
    money = ("balance_begin", "scheduled_principal", "prepayment", "default", "loss", "recovery", "interest_net",
             "cash_flow")
    for m in projection.months:
        r = _collateral_amounts(m)
        cells = [_grouped(r[f]) for f in money]
        rows.append((str(m.period), cells[0], r["smm"], *cells[1:]))
    return _aligned(rows)


def _class_table(projection: DealProjection, name: str) -> list[str]:
    rows: list[tuple[str, ...]] = [("period", "balance", "interest", "principal", "loss", "balance end")]
    for m in projection.months:
        r = _class_amounts(m, name)
        rows.append((str(m.period), *(_grouped(r[f]) for f in CLASS_FIELDS)))
    return _aligned(rows)


def _grouped(text: str) -> str:
    return dollars_grouped(cents_from_dollars(text, negative=True))


def _text(value: object) -> str:
    return "-" if value is None else str(value)


def _aligned(rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths)))
            for row in rows]
