"""The factor's one home (places, computation, text, current face) and the principal rules' one declaration."""
from decimal import Decimal

import pytest

from trusts.domain.factors import FACTOR_DECIMALS, FACTOR_QUANTUM, current_face, factor, factor_text
from trusts.domain.principal_rules import PRINCIPAL_RULES, PRO_RATA, SEQUENTIAL, priorities_shared_by_sequential


def test_a_factor_is_balance_over_original_to_8_places_half_up():
    assert FACTOR_DECIMALS == 8 and FACTOR_QUANTUM == Decimal("0.00000001")
    assert factor(99_900_450, 100_000_000) == Decimal("0.99900450")
    assert factor(1, 200_000_000) == Decimal("0.00000001")  # 0.000000005 rounds half up
    assert factor(1, 300_000_000) == Decimal("0.00000000")
    with pytest.raises(ValueError, match="positive original"):
        factor(1, 0)


@pytest.mark.parametrize("value, text", [
    (Decimal(0), "0.00000000"), (Decimal("0E-8"), "0.00000000"), (1, "1.00000000"),
    ("0.9990045", "0.99900450"), (Decimal("0.99900450"), "0.99900450"),
])
def test_a_factor_is_published_in_fixed_point_with_8_places(value, text):
    assert factor_text(value) == text


def test_the_current_face_is_the_original_times_the_factor_to_the_cent():
    assert current_face(10_000_000, Decimal("0.99900450")) == 9_990_045
    assert current_face(5, Decimal("0.5")) == 3  # 2.5 cents rounds half up
    assert current_face(10_000_000, Decimal(0)) == 0


def test_the_rules_a_deal_may_declare():
    assert PRINCIPAL_RULES == (PRO_RATA, SEQUENTIAL) == ("pro-rata", "sequential")


def test_a_sequential_class_needs_a_priority_of_its_own():
    assert priorities_shared_by_sequential([(1, SEQUENTIAL), (2, SEQUENTIAL), (3, PRO_RATA), (3, PRO_RATA)]) == []
    assert priorities_shared_by_sequential([(2, SEQUENTIAL), (2, PRO_RATA), (1, SEQUENTIAL), (1, SEQUENTIAL)]) == [1, 2]
