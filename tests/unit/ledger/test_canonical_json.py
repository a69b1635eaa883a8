"""The canonical JSON the hash chain is taken over: orjson's bytes must be the standard library's, always.

Every event ever sealed was hashed over `json.dumps(sort_keys=True,
separators=(",", ":"), ensure_ascii=False)`; `ledger.domain.hashing` writes it
with orjson where orjson writes the same bytes and falls back otherwise. These
properties hold it to that for arbitrary JSON values, including the ones orjson
renders differently or refuses (floats and NaN, integers beyond 64 bits,
non-text keys, lone surrogates, types only orjson knows).
"""
import enum
import json
import uuid
from datetime import date

import pytest
from hypothesis import given, settings, strategies as st

from ledger.domain.hashing import _plain, canonical_json, canonical_json_bytes


def stdlib(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def outcome(call, value):
    """What a call returns, or the type of error it raises: the two ways must agree on both."""
    try:
        return call(value)
    except (TypeError, ValueError, UnicodeEncodeError) as error:
        return type(error)


def stdlib_bytes(value) -> bytes:
    return stdlib(value).encode("utf-8")


texts = st.text()  # includes lone surrogates, control characters, U+2028, astral planes
integers = st.integers() | st.integers(min_value=-(2**64), max_value=2**64)  # around the 64-bit edges too
leaves = (st.none() | st.booleans() | integers | texts
          | st.floats(allow_nan=True, allow_infinity=True) | st.floats(allow_nan=False, allow_infinity=False))
json_values = st.recursive(
    leaves,
    lambda children: (st.lists(children, max_size=5) | st.tuples(children, children)
                      | st.dictionaries(texts, children, max_size=5)),
    max_leaves=40,
)
plain_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.text(st.characters(exclude_categories=["Cs"])),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5),
    max_leaves=40,
)


@settings(max_examples=600, deadline=None)
@given(json_values)
def test_canonical_json_is_the_standard_librarys_for_any_json_value(value):
    assert outcome(canonical_json, value) == outcome(stdlib, value)
    assert outcome(canonical_json_bytes, value) == outcome(stdlib_bytes, value)


@settings(max_examples=300, deadline=None)
@given(plain_values)
def test_values_like_events_take_the_fast_path(value):
    # Sanity of the property above: what events hold is written by orjson, not by the fallback.
    assert _plain(value)
    assert canonical_json_bytes(value) == stdlib_bytes(value)


class Kind(enum.Enum):
    A = "a"


class Count(enum.IntEnum):
    ONE = 1


class Text(str):
    pass


@pytest.mark.parametrize("value", [
    float("nan"), float("inf"), -0.0, 1e16, 1e-7, 0.1, 2**64, -(2**63) - 1, 2**100, {1: "x"}, {"a": {2: 3}},
    "\ud800", {"\udfff": 1}, Kind.A, Count.ONE, Text("t"), {"k": Text("t")}, uuid.UUID(int=1), date(2026, 1, 1),
    [[["deep", {"z": [1, {"a": None}]}]]],
])
def test_what_orjson_would_write_differently_or_refuse_goes_to_the_standard_library(value):
    assert outcome(canonical_json, value) == outcome(stdlib, value)
    assert outcome(canonical_json_bytes, value) == outcome(stdlib_bytes, value)


def test_deeper_than_orjson_nests_still_the_standard_librarys():
    deep: list = [1]
    for _ in range(300):  # orjson refuses beyond 254 levels
        deep = [deep]
    assert canonical_json_bytes(deep) == stdlib_bytes(deep)


# What a payload `check_payload` passes may still hold str and int subclasses (text choices, int enums),
# and text with lone surrogates or integers beyond 64 bits: the checked way must agree on all of it.
class Status(str, enum.Enum):
    OPEN = "open"


checked_leaves = (st.none() | st.booleans() | integers | texts | st.builds(Text, texts)
                  | st.sampled_from([Status.OPEN, Count.ONE, Kind.A]) | st.floats())
checked_values = st.recursive(
    checked_leaves,
    lambda children: (st.lists(children, max_size=5) | st.tuples(children, children)
                      | st.dictionaries(texts | st.builds(Text, texts), children, max_size=5)),
    max_leaves=40,
)


def passes_check_payload(value) -> bool:
    from ledger.domain.validation import check_payload
    from ledger.errors import InvalidEvent

    try:
        check_payload(value)
    except InvalidEvent:
        return False
    return True


@settings(max_examples=600, deadline=None)
@given(checked_values)
def test_a_payload_check_payload_passed_is_written_the_standard_librarys_way_without_the_walk(value):
    if not passes_check_payload(value):
        return  # the ledger never seals it: refused before anything is hashed
    assert outcome(lambda v: canonical_json_bytes(v, checked=True), value) == outcome(stdlib_bytes, value)
    assert outcome(lambda v: canonical_json(v, checked=True), value) == outcome(stdlib, value)
