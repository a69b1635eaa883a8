"""The remittance's rule for dated trust facts, registered with ledger.business_time from RemittanceConfig.ready().

A trust-level fact (a pool removal, with a trust code) dated on or before the last day of the
trust's last closed period is refused: that period's money has been paid to the holders, and
a fact inside it would pass principal twice and leave the closed period unable to reconcile.
"""
from __future__ import annotations

from ledger.business_time import DatedFact
from remittance.domain.trust_calendar import Period
from remittance.models import PeriodResult
from trusts.models import Trust

# What the rule reads (ledger.business_time re-checks a fact when an event changing one was recorded since).
RULE_READS = (PeriodResult, Trust)


def inside_closed_period(fact: DatedFact) -> str | None:
    """A problem if `fact` is dated inside (or before) the trust's last closed period."""
    if not fact.trust_code:
        return None
    last = (PeriodResult.objects.filter(trust__code=fact.trust_code).order_by("-period")
            .values_list("period", flat=True).first())
    if last is None:
        return None
    last_day = Period.parse(last).last_day
    if fact.on > last_day:
        return None
    return (f"trust {fact.trust_code}'s period {last} is closed and paid (through {last_day.isoformat()}); "
            f"date it after {last_day.isoformat()}, in the open period")
