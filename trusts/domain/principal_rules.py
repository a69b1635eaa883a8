"""How a class is paid principal: the rules a deal may declare, and what they require (pure, no Django).

The one declaration of the principal-paying rules, read by the deal file
(trusts.domain.deal_file, refusing a deal that breaks them), the class table's
choices (trusts.models) and the waterfall (remittance.domain.waterfall, refusing
classes that break them):
- "pro-rata": classes sharing a priority are paid principal in proportion to their balances;
- "sequential": the class is paid all the principal its priority gets, before the next
  priority, so it needs a priority of its own (two at one priority would have no order).
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

PRO_RATA = "pro-rata"
SEQUENTIAL = "sequential"
PRINCIPAL_RULES: tuple[str, ...] = (PRO_RATA, SEQUENTIAL)
PrincipalRule = Literal["pro-rata", "sequential"]


def priorities_shared_by_sequential(classes: Iterable[tuple[int, str]]) -> list[int]:
    """The priorities (ascending) a sequential class shares with another class; classes are (priority, rule)."""
    rules: dict[int, list[str]] = {}
    for priority, rule in classes:
        rules.setdefault(priority, []).append(rule)
    return sorted(p for p, group in rules.items() if len(group) > 1 and SEQUENTIAL in group)
