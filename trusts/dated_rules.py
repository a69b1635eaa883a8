"""The trusts' rule for dated loan facts, registered with ledger.business_time from TrustsConfig.ready().

Money a loan receives on or before the cut-off of the trust it is in now belongs to the seller:
the trust bought the loan at its cut-off balance, so a payment or curtailment dated then but
posted after the trust was formed would lower the pool without ever being remitted. Such a
fact is refused, naming the loan, the trust and its cut-off. The rule applies to loan facts
(a DatedFact with a loan number and no trust code); trust-level facts (a removal) are the
remittance's closed-period rule's business.
"""
from __future__ import annotations

from ledger.business_time import DatedFact
from trusts.models import PoolLoan


def before_current_cutoff(fact: DatedFact) -> str | None:
    """A problem if `fact` is dated on or before the cut-off of the trust the loan is in now."""
    if not fact.loan_number or fact.trust_code:
        return None
    member = (PoolLoan.objects.filter(loan_id=fact.loan_number, removed_on__isnull=True)
              .select_related("trust").first())
    if member is None or fact.on > member.transferred_on:
        return None
    cutoff = member.transferred_on.isoformat()
    return (f"loan {fact.loan_number} went into trust {member.trust.code} at its cut-off {cutoff}; "
            f"money received on or before {cutoff} is settled with the seller")
