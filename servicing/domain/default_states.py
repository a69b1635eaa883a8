"""Where a loan stands in default servicing: its states, read from its position (pure).

A loan may be in several states at once (in a chapter 13 case and in
forbearance; in foreclosure and in bankruptcy, the stay holding the
foreclosure), or in none. Each state is one field of the LoanPosition holding
one value: the loss-mitigation step (written by the loss-mitigation events),
the open bankruptcy case's chapter, or the status (foreclosure, REO). The table
`DEFAULT_STATES` is the one definition: `default_states` evaluates it on a
position, and the selectors turn the same table into database filters
(servicing.selectors.default_state_filter), so the dashboard's counts, the
loans' list filter and the API's filter agree with this function.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol


class PositionStates(Protocol):
    """The position fields the states are read from (a LoanPosition row, or any object having them)."""

    status: str
    loss_mitigation: str
    bankruptcy_chapter: int | None
    bankruptcy_filed_on: date | None
    delinquency_bucket: str


@dataclass(frozen=True, slots=True)
class DefaultState:
    name: str
    label: str
    field: str  # the LoanPosition field ...
    value: str | int  # ... holding this value puts the loan in the state


DEFAULT_STATES: tuple[DefaultState, ...] = (
    DefaultState("forbearance", "in forbearance", "loss_mitigation", "forbearance"),
    DefaultState("repayment_plan", "in a repayment plan", "loss_mitigation", "repayment_plan"),
    DefaultState("trial", "in a trial modification", "loss_mitigation", "trial"),
    DefaultState("modified", "modified", "loss_mitigation", "modified"),
    DefaultState("bankruptcy_7", "in bankruptcy, chapter 7", "bankruptcy_chapter", 7),
    DefaultState("bankruptcy_13", "in bankruptcy, chapter 13", "bankruptcy_chapter", 13),
    DefaultState("foreclosure", "in foreclosure", "status", "foreclosure"),
    DefaultState("reo", "REO (acquired by foreclosure)", "status", "reo"),
)
BY_NAME = {state.name: state for state in DEFAULT_STATES}


@dataclass(frozen=True, slots=True)
class DefaultServicing:
    """A loan's default-servicing states (in the table's order) and, beside them, its MBA bucket."""

    states: tuple[DefaultState, ...]
    delinquency_bucket: str

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(state.name for state in self.states)

    def describe(self) -> str:
        """In words, e.g. "in bankruptcy, chapter 13; in foreclosure (MBA 90+)"; "none" without a state."""
        words = "; ".join(state.label for state in self.states) or "none"
        return f"{words} (MBA {self.delinquency_bucket})"


def default_servicing(position: PositionStates) -> DefaultServicing:
    """The states the position's fields put the loan in, with its delinquency bucket beside."""
    states = tuple(s for s in DEFAULT_STATES if getattr(position, s.field) == s.value)
    return DefaultServicing(states=states, delinquency_bucket=position.delinquency_bucket)
