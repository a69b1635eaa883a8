"""Reading payment files: good rows parsed exactly, every bad row named with its line."""
from datetime import date

import pytest

from servicing.domain.csv_files import free_text_problem
from servicing.domain.payment_file import PaymentRow, parse_payment_file, parse_payment_file_bytes, reference_problem

TODAY = date(2026, 3, 1)
HEADER = "loan_number,received_on,amount,reference\n"


def parse(body: str, header: str = HEADER):
    return parse_payment_file(header + body, today=TODAY)


def test_good_rows_are_parsed_to_cents_and_dates():
    rows, problems = parse("L001,2026-02-01,849.55,B1\n L002 , 2026-02-02 ,\"1,000.00\", B2 \n")
    assert problems == []
    assert rows == [
        PaymentRow(line=2, loan_number="L001", received_on=date(2026, 2, 1), amount_cents=84_955, reference="B1"),
        PaymentRow(line=3, loan_number="L002", received_on=date(2026, 2, 2), amount_cents=100_000, reference="B2"),
    ]


def test_every_bad_row_is_reported_with_its_line():
    rows, problems = parse(
        "L001,2026-02-01,849.55,G1\n"
        "L002,2026-02-01,12.345,B1\n"
        "L003,2026-02-01,0.00,B2\n"
        "L004,2026-02-01,-5.00,B3\n"
        "L005,2026-02-30,10.00,B4\n"
        "L006,2026-03-02,10.00,B5\n"
        "L007,2026-02-01,ten,B6\n"
        "L008,2026-02-01,10.00,\n"
        "L009,2026-02-01,10.00,G1\n"
        "bad number,2026-02-01,10.00,B7\n"
        "L010,2026-02-01,,B8\n"
        "L011,2026-02-01,10.00,B9,extra\n"
    )
    assert [r.reference for r in rows] == ["G1"]
    assert [str(p) for p in problems] == [
        "line 3: amount: '12.345' has fractions of a cent",
        "line 4: amount 0.00 must be more than zero",
        "line 5: amount: '-5.00' is negative; the amount must be zero or more",
        "line 6: received_on '2026-02-30' is not an ISO date (YYYY-MM-DD)",
        "line 7: received_on 2026-03-02 is in the future (today is 2026-03-01)",
        "line 8: amount: 'ten' is not an amount in dollars",
        "line 9: the reference is empty; every payment needs the bank's reference",
        "line 10: reference G1 is in the file twice (also line 2)",
        "line 11: loan_number 'bad number' must be 1-40 letters, digits, '-', '_' or '.'",
        "line 12: amount is required (dollars with cents, like 849.55)",
        "line 13: more fields than columns",
    ]


def test_wrong_columns_empty_files_and_bad_encoding_are_refused():
    _, problems = parse("L1,2026-02-01,1.00\n", header="loan_number,received_on,amount,memo\n")
    assert [str(p) for p in problems] == ["line 1: missing columns reference; unknown columns memo"]
    assert [str(p) for p in parse("")[1]] == ["line 1: the file has no payments"]
    _, problems = parse_payment_file_bytes(b"loan_number\n\xff\n", today=TODAY)
    assert "not UTF-8" in str(problems[0])
    rows, problems = parse_payment_file_bytes(("\ufeff" + HEADER + "L1,2026-02-01,1.00,R\n").encode(), today=TODAY)
    assert problems == [] and rows[0].amount_cents == 100


def test_references_must_be_short_printable_text():
    assert reference_problem("ACH-2026-02-01-0001") is None
    assert "empty" in reference_problem("   ")
    assert "printable" in reference_problem("x" * 121)
    assert "printable" in reference_problem("a\x00b")


UNSEEN = ["\u200b", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u202e", "\u2028", "\u2029", "\ue000"]


@pytest.mark.parametrize("char", UNSEEN)
def test_a_reference_with_a_character_that_does_not_show_is_refused(char):
    # "REF1" and "REF1" + U+200B look the same: the second would slip past the duplicate-reference check.
    problem = reference_problem(f"REF{char}1")
    assert problem is not None and f"U+{ord(char):04X}" in problem and "does not show" in problem
    _, problems = parse(f"L1,2026-02-01,1.00,REF{char}1\n")
    assert len(problems) == 1 and f"U+{ord(char):04X}" in str(problems[0]) and str(problems[0]).startswith("line 2")


def test_a_reference_with_an_odd_space_or_a_decomposed_letter_is_refused():
    assert "U+00A0" in reference_problem("REF\u00a01")
    assert "U+3000" in reference_problem("REF\u30001")
    assert "NFC" in reference_problem("CAFE\u0301-1")  # an e and a combining accent: looks like CAFÉ-1
    assert reference_problem("CAF\u00c9-1") is None and reference_problem("REF 1") is None


@pytest.mark.parametrize("char", UNSEEN + ["\x07"])
def test_names_and_addresses_with_a_character_that_does_not_show_are_refused(char):
    problem = free_text_problem("borrower_name", f"Ada{char}Borrower")
    assert problem is not None and "control character" in problem and f"U+{ord(char):04X}" in problem
    assert free_text_problem("borrower_name", "Zoë Ångström-Núñez") is None
