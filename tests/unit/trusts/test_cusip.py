"""CUSIPs: the check digit (known issues' numbers), and the deal file's optional `cusip` per class."""
import copy

from hypothesis import given, strategies as st

from tests.unit.trusts.test_deal_file import EXAMPLE
from trusts.domain.cusip import check_digit, cusip_problem
from trusts.domain.deal_file import parse_deal

# Published CUSIPs (Apple, Google class C, Microsoft, Oracle): their check digits are the standard's.
KNOWN = ("037833100", "38259P508", "594918104", "68389X105")


def test_known_cusips_check():
    assert [cusip_problem(c) for c in KNOWN] == [None] * 4
    assert [check_digit(c[:8]) for c in KNOWN] == [0, 8, 4, 5]


@given(st.sampled_from(KNOWN), st.integers(1, 9))
def test_any_other_check_digit_is_refused(cusip, shift):
    wrong = cusip[:8] + str((int(cusip[8]) + shift) % 10)
    assert "check digit" in cusip_problem(wrong)


def test_a_malformed_cusip_is_refused():
    for bad in ("03783310", "0378331000", "037833l00", 37833100, None):
        assert "is not a CUSIP" in cusip_problem(bad)


def test_the_deal_file_keeps_a_class_cusip():
    deal = copy.deepcopy(EXAMPLE)
    deal["classes"][0]["cusip"] = "037833100"
    spec, problems = parse_deal(deal)
    assert problems == [] and spec.classes[0].cusip == "037833100"
    assert parse_deal(EXAMPLE)[0].classes[0].cusip is None


def test_a_bad_cusip_is_refused_naming_the_class():
    deal = copy.deepcopy(EXAMPLE)
    deal["classes"][0]["cusip"] = "037833101"
    spec, problems = parse_deal(deal)
    assert spec is None
    assert problems == ["class A: cusip 037833101 has check digit 1, but its first eight characters give 0"]


def test_two_classes_cannot_share_a_cusip():
    deal = copy.deepcopy(EXAMPLE)
    deal["classes"] = [{"name": "A1", "face": "600000.00", "coupon": "5.5", "cusip": "037833100"},
                       {"name": "A2", "face": "400000.00", "coupon": "5.5", "cusip": "037833100"}]
    deal["holders"] = []
    assert parse_deal(deal)[1] == ["class A2: cusip 037833100 is already class A1's"]
