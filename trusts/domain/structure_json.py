"""A deal's structure (trusts.domain.deal_structure.DealStructure) as plain JSON and back, exactly (pure).

The one encoding of a structure: TrustFormed (v3) carries it and the trust's row keeps it
(Trust.structure), so the log and the row hold the same dict. Decimals are text written as
`str()` writes them (so "0.0100" stays "0.0100"), cents and periods are integers, tuples are
lists. A value equal to its default is left out, so the standard deal is `{}`, which is also
what a trust formed before structures were recorded holds. `structure_from_json` refuses a key
it does not know (ValueError): the dict is ours, and a stray key would be a silent misreading.
"""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from trusts.domain.deal_structure import (
    STANDARD, STANDARD_STEP_NAMES, ClassFeatures, DealStructure, LockoutStep, LossLimit, Overcollateralization,
    ReserveAccount, Triggers,
)

STRUCTURE_KEYS = frozenset((
    "steps", "trustee_fee_rate", "features", "triggers", "overcollateralization", "reserve", "cleanup_call_percent",
))
FEATURE_KEYS = frozenset(("kind", "schedule", "band", "notional_of", "lockout"))
TRIGGER_KEYS = frozenset(("stepdown_period", "cumulative_loss", "delinquency_60_percent",
                          "delinquency_90_percent", "sticky"))
OC_KEYS = frozenset(("target_percent", "stepdown_target_percent", "floor_percent"))
RESERVE_KEYS = frozenset(("target_cents", "initial_deposit_cents"))


def structure_to_json(s: DealStructure) -> dict[str, Any]:
    """The structure as a JSON-ready dict; the standard deal is {}."""
    data: dict[str, Any] = {}
    if s.steps != STANDARD_STEP_NAMES:
        data["steps"] = list(s.steps)
    if str(s.trustee_fee_rate) != "0":
        data["trustee_fee_rate"] = str(s.trustee_fee_rate)
    if s.features:
        data["features"] = {name: _features_to_json(f) for name, f in s.features.items()}
    if s.triggers is not None:
        data["triggers"] = _triggers_to_json(s.triggers)
    if s.overcollateralization is not None:
        oc = s.overcollateralization
        data["overcollateralization"] = {"target_percent": str(oc.target_percent),
                                         "stepdown_target_percent": str(oc.stepdown_target_percent),
                                         "floor_percent": str(oc.floor_percent)}
    if s.reserve is not None:
        data["reserve"] = {"target_cents": s.reserve.target_cents,
                           "initial_deposit_cents": s.reserve.initial_deposit_cents}
    if s.cleanup_call_percent is not None:
        data["cleanup_call_percent"] = str(s.cleanup_call_percent)
    return data


def _features_to_json(f: ClassFeatures) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if f.kind != STANDARD:
        data["kind"] = f.kind
    if f.schedule:
        data["schedule"] = list(f.schedule)
    if f.band is not None:
        data["band"] = [str(f.band[0]), str(f.band[1])]
    if f.notional_of:
        data["notional_of"] = list(f.notional_of)
    if f.lockout:
        data["lockout"] = [{"through_period": step.through_period, "percent": str(step.percent)} for step in f.lockout]
    return data


def _triggers_to_json(t: Triggers) -> dict[str, Any]:
    return {
        "stepdown_period": t.stepdown_period,
        "cumulative_loss": [{"from_period": step.from_period, "percent": str(step.percent)} for step in t.cumulative_loss],
        "delinquency_60_percent": _text_or_none(t.delinquency_60_percent),
        "delinquency_90_percent": _text_or_none(t.delinquency_90_percent),
        "sticky": t.sticky,
    }


def _text_or_none(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def structure_from_json(data: Mapping[str, Any]) -> DealStructure:
    """The structure a dict of `structure_to_json` holds; {} is the standard deal. ValueError on a stray key."""
    _known(data, STRUCTURE_KEYS, "structure")
    triggers, oc, reserve = data.get("triggers"), data.get("overcollateralization"), data.get("reserve")
    call = data.get("cleanup_call_percent")
    return DealStructure(
        steps=tuple(data["steps"]) if "steps" in data else STANDARD_STEP_NAMES,
        trustee_fee_rate=Decimal(data.get("trustee_fee_rate", "0")),
        features={name: _features_from_json(f) for name, f in data.get("features", {}).items()},
        triggers=None if triggers is None else _triggers_from_json(triggers),
        overcollateralization=None if oc is None else _oc_from_json(oc),
        reserve=None if reserve is None else _reserve_from_json(reserve),
        cleanup_call_percent=None if call is None else Decimal(call),
    )


def _features_from_json(data: Mapping[str, Any]) -> ClassFeatures:
    _known(data, FEATURE_KEYS, "class features")
    band = data.get("band")
    return ClassFeatures(
        kind=data.get("kind", STANDARD),
        schedule=tuple(int(b) for b in data.get("schedule", ())),
        band=None if band is None else (Decimal(band[0]), Decimal(band[1])),
        notional_of=tuple(data.get("notional_of", ())),
        lockout=tuple(LockoutStep(through_period=int(step["through_period"]), percent=Decimal(step["percent"]))
                      for step in data.get("lockout", ())),
    )


def _triggers_from_json(data: Mapping[str, Any]) -> Triggers:
    _known(data, TRIGGER_KEYS, "triggers")
    d60, d90 = data.get("delinquency_60_percent"), data.get("delinquency_90_percent")
    return Triggers(
        stepdown_period=int(data["stepdown_period"]),
        cumulative_loss=tuple(LossLimit(from_period=int(step["from_period"]), percent=Decimal(step["percent"]))
                              for step in data.get("cumulative_loss", ())),
        delinquency_60_percent=None if d60 is None else Decimal(d60),
        delinquency_90_percent=None if d90 is None else Decimal(d90),
        sticky=bool(data.get("sticky", True)),
    )


def _oc_from_json(data: Mapping[str, Any]) -> Overcollateralization:
    _known(data, OC_KEYS, "overcollateralization")
    return Overcollateralization(target_percent=Decimal(data["target_percent"]),
                                 stepdown_target_percent=Decimal(data["stepdown_target_percent"]),
                                 floor_percent=Decimal(data.get("floor_percent", "0")))


def _reserve_from_json(data: Mapping[str, Any]) -> ReserveAccount:
    _known(data, RESERVE_KEYS, "reserve")
    return ReserveAccount(target_cents=int(data["target_cents"]),
                          initial_deposit_cents=int(data.get("initial_deposit_cents", 0)))


def _known(data: Mapping[str, Any], keys: frozenset[str], where: str) -> None:
    stray = sorted(k for k in data if k not in keys)
    if stray:
        raise ValueError(f"{where}: unknown keys {', '.join(stray)} in a recorded deal structure")
