"""What a caller may see, read from the database, and the search of an answer for anything else.

A `Sight` is built for one login from the rows themselves (never a list written
by hand): the holder it is linked to, the trusts api.access lets it see, and
everything it must not see: every other holder's code and name, the trusts
it neither holds nor held with their loans, and the ids of other holders'
distributions and register lines. `Sight.leaks(path, text)` names every such
thing found in one answer, JSON or CSV alike.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from api.access import holder_of, is_operations, visible_trusts
from remittance.models import Distribution
from trusts.models import Holder, HoldingMovement, PoolLoan, Trust

# Under these paths every object with an "id" is one of the caller's own rows of that table.
OWN_ROW_PATHS = {"/api/v1/me/distributions/": "distributions", "/api/v1/me/register/": "register"}


def _word(text: str) -> re.Pattern:
    # "INV-1" must not be found inside "INV-10", nor "Investor 1" inside "Investor 10".
    return re.compile(rf"(?<![\w-]){re.escape(text)}(?![\w-])")


@dataclass
class Sight:
    who: str
    operations: bool
    own_rows: dict[str, set[int]] = field(default_factory=dict)
    hidden: dict[str, re.Pattern] = field(default_factory=dict)  # what it is -> how to find it

    @classmethod
    def of(cls, user, who: str) -> Sight:
        """What `user` (None for an anonymous caller) may see, as the database stands now."""
        operations = user is not None and is_operations(user)
        sight = cls(who=who, operations=operations)
        if operations:
            return sight  # staff see everything: nothing is hidden from them
        holder = holder_of(user) if user is not None else None
        seen = set(visible_trusts(user).values_list("code", flat=True)) if user is not None else set()
        for other in Holder.objects.exclude(pk=getattr(holder, "pk", None)):
            sight.hidden[f"holder {other.code}"] = _word(other.code)
            sight.hidden[f"holder name {other.name}"] = _word(other.name)
        for code in Trust.objects.exclude(code__in=seen).values_list("code", flat=True):
            sight.hidden[f"trust {code}"] = _word(code)
        for loan in PoolLoan.objects.exclude(trust__code__in=seen).values_list("loan__loan_number", flat=True):
            sight.hidden[f"loan {loan}"] = _word(loan)
        sight.own_rows = {
            "distributions": set(Distribution.objects.filter(holder=holder).values_list("id", flat=True)),
            "register": set(HoldingMovement.objects.filter(holder=holder).values_list("id", flat=True)),
        }
        return sight

    def leaks(self, path: str, text: str) -> list[str]:
        """Everything in one answer (to `path`) that this caller may not see."""
        if self.operations:
            return []
        found = [what for what, pattern in self.hidden.items() if pattern.search(text)]
        table = next((t for prefix, t in OWN_ROW_PATHS.items() if path.startswith(prefix)), None)
        if table:
            found += [f"{table} id {i}" for i in _ids(text) - self.own_rows[table]]
        return found


def _ids(text: str) -> set[int]:
    """Every "id" of every object in a JSON answer (none in a CSV or an error's fixed body)."""
    try:
        data = json.loads(text)
    except ValueError:
        return set()
    ids, todo = set(), [data]
    while todo:
        item = todo.pop()
        if isinstance(item, dict):
            if isinstance(item.get("id"), int):
                ids.add(item["id"])
            todo.extend(item.values())
        elif isinstance(item, list):
            todo.extend(item)
    return ids
