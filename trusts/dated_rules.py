"""The trusts' rule for dated loan facts, registered with ledger.business_time from TrustsConfig.ready().

Money a loan receives on or before the cut-off of the trust it is in now belongs to the seller:
the trust bought the loan at its cut-off balance, so a payment or curtailment dated then but
posted after the trust was formed would lower the pool without ever being remitted. Such a
fact is refused, naming the loan, the trust and its cut-off. Likewise money dated on or before a
loan's removal from a pool, posted after the removal: the buyer paid the unpaid principal and
accrued interest of that day, so the trust would be paid the same principal twice (once in the
proceeds, once as the late payment). The rules apply to loan facts
(a DatedFact with a loan number and no trust code); trust-level facts (a removal) are the
remittance's closed-period rule's business.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from django.db.models import Q

from ledger.bulk import among
from ledger.business_time import DatedFact
from trusts.models import PoolLoan, Trust

# What the rule reads (ledger.business_time re-checks a fact when an event changing one was recorded since).
RULE_READS = (PoolLoan, Trust)

# A membership as the rule reads it, plain values (no model instance a row): trust code, cut-off, removal day.
Membership = tuple[str, date, "date | None"]
_MEMBERSHIP = ("trust__code", "transferred_on", "removed_on")


def before_current_cutoff(fact: DatedFact) -> str | None:
    """A problem if `fact` is dated on or before the cut-off of the trust the loan is in now,
    or on or before the loan's last removal from a pool. One query: it runs for every payment."""
    if not fact.loan_number or fact.trust_code:
        return None
    blocking = (PoolLoan.objects.filter(loan_id=fact.loan_number)
                .filter(Q(removed_on__isnull=True, transferred_on__gte=fact.on) | Q(removed_on__gte=fact.on))
                .order_by("pk").values_list(*_MEMBERSHIP))
    return _problem(fact, list(blocking))


def before_current_cutoff_many(facts: Sequence[DatedFact]) -> list[str | None]:
    """The rule for many facts (a payment file's rows): the loans' pool memberships in one query, each
    fact then held against its loan's, as the one-fact rule's filter does."""
    loans = {f.loan_number for f in facts if f.loan_number and not f.trust_code}
    memberships: dict[str, list[Membership]] = {}
    for loan, *member in PoolLoan.objects.filter(loan_id__in=among(loans)).order_by("pk").values_list(
            "loan_id", *_MEMBERSHIP):
        memberships.setdefault(loan, []).append(tuple(member))
    answers: list[str | None] = []
    for fact in facts:
        held = memberships.get(fact.loan_number) if fact.loan_number and not fact.trust_code else None
        if not held:
            answers.append(None)
            continue
        on = fact.on
        blocking = [m for m in held if (m[2] is None and m[1] >= on) or (m[2] is not None and m[2] >= on)]
        answers.append(_problem(fact, blocking))
    return answers


def _problem(fact: DatedFact, members: list[Membership]) -> str | None:
    """The refusal of `fact` given the loan's memberships that block it (held on or after its date)."""
    current = next((m for m in members if m[2] is None), None)
    if current is not None:
        code, transferred_on, _ = current
        cutoff = transferred_on.isoformat()
        return (f"loan {fact.loan_number} went into trust {code} at its cut-off {cutoff}; "
                f"money received on or before {cutoff} is settled with the seller")
    if members:
        code, _, removed_on = max(members, key=lambda m: m[2])
        day = removed_on.isoformat()
        return (f"loan {fact.loan_number} left trust {code} on {day} for its balance and accrued "
                f"interest of that day; money received on or before {day} is settled with the buyer")
    return None
