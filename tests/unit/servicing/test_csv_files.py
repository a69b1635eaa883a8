"""The one row loop of the input files (servicing.domain.csv_files.read_rows), on a file of its own."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicing.domain.csv_files import RowRefused, loan_number_cell, money_cell, read_rows
from servicing.errors import RowProblem

COLUMNS = ("loan_number", "amount")


def _row(line: int, cells: dict[str, str]) -> tuple[int, str, int]:
    return line, loan_number_cell(cells), money_cell(cells, "amount", positive=True)


def read(source):
    return read_rows(source, COLUMNS, _row, key=lambda row: row[1],
                     twice=lambda row, line: f"{row[1]} twice (also line {line})", empty="no rows")


def test_good_rows_in_order_with_their_lines():
    rows, problems = read('loan_number,amount\nL1,1.00\nL2,"2,000.50"\n')
    assert rows == [(2, "L1", 100), (3, "L2", 200_050)] and problems == []


def test_every_bad_row_is_listed_with_its_line_and_the_good_ones_still_read():
    text = ("loan_number,amount\n"
            "L1,1.00\n"        # 2: good
            "L1,2.00\n"        # 3: the key again
            "bad number,1.00\n"  # 4
            "L3,0.00\n"        # 5: zero refused
            "L4,-1.00\n"       # 6: negative refused by the parser, naming the column
            "L5,1.00,extra\n"  # 7
            "L6\n")            # 8: cut short
    rows, problems = read(text)
    assert [r[1] for r in rows] == ["L1"]
    assert [str(p) for p in problems] == [
        "line 3: L1 twice (also line 2)",
        "line 4: loan_number 'bad number' must be 1-40 letters, digits, '-', '_' or '.'",
        "line 5: amount 0.00 must be more than zero",
        "line 6: amount: '-1.00' is negative; the amount must be zero or more",
        "line 7: more fields than columns",
        "line 8: fewer fields than columns (no amount)",
    ]


def test_the_header_and_an_empty_file_are_problems_of_line_1():
    assert read("loan_number\nL1\n") == ([], [RowProblem(1, "missing columns amount")])
    assert read("loan_number,amount\n") == ([], [RowProblem(1, "no rows")])
    assert read(b"") == ([], [RowProblem(1, "the file is empty: no header, no rows")])


def test_bytes_are_decoded_as_utf8_with_or_without_a_bom():
    assert read("\ufeffloan_number,amount\nL1,1.00\n".encode())[0] == [(2, "L1", 100)]
    rows, problems = read(b"loan_number,amount\n\xff,1.00\n")
    assert rows == [] and problems[0].line == 2 and "not UTF-8" in problems[0].reason


def test_a_parser_error_other_than_a_refusal_is_not_swallowed():
    def broken(line, cells):
        raise KeyError("a bug, not a bad row")

    assert issubclass(RowRefused, ValueError)  # a row's refusal is listed; a bug is raised
    with pytest.raises(KeyError):
        read_rows("loan_number,amount\nL1,1.00\n", COLUMNS, broken, key=lambda r: r, twice=str, empty="")


@settings(max_examples=50, deadline=None, database=None, derandomize=True)
@given(numbers=st.lists(st.sampled_from(["L1", "L2", "L3", "x y"]), max_size=8))
def test_each_row_is_either_read_or_listed_once(numbers):
    text = "loan_number,amount\n" + "".join(f"{n},1.00\n" for n in numbers)
    rows, problems = read(text)
    assert len(rows) + len(problems) == max(len(numbers), 1)
    assert len({r[1] for r in rows}) == len(rows)
