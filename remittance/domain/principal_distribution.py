"""The deal's principal rule: how an amount of principal is shared among the classes (pure).

The PRINCIPAL paragraph of trusts.domain.deal_structure, applied by the waterfall
(remittance.domain.waterfall) to the principal distribution amount, to an accrual class's
accrual (among the classes ahead of it) and to turbo principal alike. In order:
1. PAC classes, by priority, up to their balance less their scheduled balance for the period
   (a PAC behind its schedule catches up);
2. NAS classes up to their lockout share: floor(amount x NAS balance / every payee's balance x
   lockout percent / 100), computed on the balances as the amount arrives;
3. every other class: each priority group paid to zero before the next, pro rata by balance inside
   a group; or, when the triggers choose "pro-rata", pro rata by balance across all of them at once;
4. what is left to the PAC and NAS classes beyond their schedules and shares (a "busted" PAC), by
   priority groups again.
What no class can take is returned: the caller decides where it goes.
IO classes take no principal and are not payees.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import groupby

from ledger.domain.money import allocate
from trusts.domain.deal_structure import IO, NAS, PAC, ClassFeatures


@dataclass(frozen=True, slots=True, kw_only=True)
class Payee:
    """A class that can be paid principal, as it stands when the amount arrives."""

    name: str
    priority: int
    balance_cents: int
    features: ClassFeatures


def distribute_principal(amount_cents: int, payees: Sequence[Payee], *, period_number: int,
                         all_pro_rata: bool = False) -> tuple[dict[str, int], int]:
    """Share amount_cents among payees by the principal rule; returns (name -> cents paid, cents left over).

    all_pro_rata: the triggers chose pro rata across the non-PAC, non-NAS classes (after the step-down).
    """
    payees = sorted((p for p in payees if p.features.kind != IO), key=lambda p: (p.priority, p.name))
    balances = {p.name: p.balance_cents for p in payees}
    paid = {p.name: 0 for p in payees}
    left = amount_cents
    total = sum(balances.values())

    def pay(name: str, cents: int) -> None:
        nonlocal left
        paid[name] += cents
        balances[name] -= cents
        left -= cents

    for p in payees:
        if p.features.kind == PAC:
            pay(p.name, min(left, max(0, balances[p.name] - p.features.scheduled_balance(period_number))))
    for p in payees:
        if p.features.kind == NAS and total > 0:
            share = (Fraction(amount_cents * balances[p.name], total)
                     * Fraction(p.features.lockout_percent(period_number)) / 100)
            pay(p.name, min(left, balances[p.name], share.numerator // share.denominator))
    rest = [p for p in payees if p.features.kind not in (PAC, NAS)]
    for group in ([rest] if all_pro_rata else _priority_groups(rest)):
        for name, part in _pro_rata(left, group, balances).items():
            pay(name, part)
    for group in _priority_groups([p for p in payees if p.features.kind in (PAC, NAS)]):
        for name, part in _pro_rata(left, group, balances).items():
            pay(name, part)
    return paid, left


def _pro_rata(amount: int, group: Sequence[Payee], balances: dict[str, int]) -> dict[str, int]:
    """Up to amount, pro rata by current balance inside the group (exact, ties to the smaller name)."""
    weights = [balances[p.name] for p in group]
    taking = min(amount, sum(weights))
    return dict(zip([p.name for p in group], allocate(taking, weights, keys=[p.name for p in group])))


def _priority_groups(payees: Sequence[Payee]) -> list[list[Payee]]:
    ordered = sorted(payees, key=lambda p: (p.priority, p.name))
    return [list(group) for _, group in groupby(ordered, key=lambda p: p.priority)]
