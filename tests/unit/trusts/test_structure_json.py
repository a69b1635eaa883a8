"""The structure's JSON codec: any structure round-trips exactly, the standard deal is {}, a stray key is refused."""
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trusts.domain.deal_structure import (
    CLASS_KINDS, STANDARD_STRUCTURE, STEP_NAMES, ClassFeatures, DealStructure, LockoutStep, LossLimit,
    Overcollateralization, ReserveAccount, Triggers,
)
from trusts.domain.structure_json import structure_from_json, structure_to_json

decimals = st.decimals(allow_nan=False, allow_infinity=False, min_value=-10**6, max_value=10**6, places=6)
periods = st.integers(min_value=-5, max_value=600)
cents = st.integers(min_value=-10**12, max_value=10**14)
names = st.text(alphabet="ABCDMPSXZ12", min_size=1, max_size=3)

features = st.builds(
    ClassFeatures, kind=st.sampled_from(CLASS_KINDS), schedule=st.lists(cents, max_size=40).map(tuple),
    band=st.none() | st.tuples(decimals, decimals), notional_of=st.lists(names | st.just("pool"), max_size=3).map(tuple),
    lockout=st.lists(st.builds(LockoutStep, through_period=periods, percent=decimals), max_size=4).map(tuple),
)
triggers = st.builds(
    Triggers, stepdown_period=periods,
    cumulative_loss=st.lists(st.builds(LossLimit, from_period=periods, percent=decimals), max_size=4).map(tuple),
    delinquency_60_percent=st.none() | decimals, delinquency_90_percent=st.none() | decimals, sticky=st.booleans(),
)
structures = st.builds(
    DealStructure, steps=st.lists(st.sampled_from(STEP_NAMES) | st.text(max_size=8), max_size=12).map(tuple),
    trustee_fee_rate=decimals, features=st.dictionaries(names, features, max_size=5),
    triggers=st.none() | triggers,
    overcollateralization=st.none() | st.builds(Overcollateralization, target_percent=decimals,
                                                stepdown_target_percent=decimals, floor_percent=decimals),
    reserve=st.none() | st.builds(ReserveAccount, target_cents=cents, initial_deposit_cents=cents),
    cleanup_call_percent=st.none() | decimals,
)


@given(structures)
def test_any_structure_round_trips_exactly_through_json_text(structure):
    data = structure_to_json(structure)
    stored = json.loads(json.dumps(data))  # what the log and the row hold
    again = structure_from_json(stored)
    assert again == structure
    # Exactly, not only equal: "0.0100" stays "0.0100" (Decimal("0.0100") == Decimal("0.01")).
    assert structure_to_json(again) == data


def test_the_standard_deal_is_the_empty_dict():
    assert structure_to_json(STANDARD_STRUCTURE) == {}
    assert structure_from_json({}) == STANDARD_STRUCTURE


def test_a_stray_key_is_refused_not_skipped():
    with pytest.raises(ValueError, match="structure: unknown keys waterfall"):
        structure_from_json({"waterfall": ["excess"]})
    with pytest.raises(ValueError, match="class features: unknown keys coupon"):
        structure_from_json({"features": {"A": {"coupon": "5"}}})
