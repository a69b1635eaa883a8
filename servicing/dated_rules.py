"""Servicing's part of the one business-time rule (ledger.business_time): a loan's facts are not dated
before the loan was boarded, since before that day it was another servicer's to record."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from ledger.bulk import among
from ledger.business_time import DatedFact
from servicing.models import Loan

# What the rule reads (ledger.business_time re-checks a fact when an event changing one was recorded since).
RULE_READS = (Loan,)


def not_before_boarding(fact: DatedFact) -> str | None:
    if not fact.loan_number:
        return None
    boarded_on = Loan.objects.filter(pk=fact.loan_number).values_list("boarded_on", flat=True).first()
    return _before(fact, boarded_on)


def not_before_boarding_many(facts: Sequence[DatedFact]) -> list[str | None]:
    """The rule for many facts (a payment file's rows): every loan's boarding date in one query."""
    # The loans as one parameter (ledger.bulk.among), not a placeholder each.
    boarded = dict(Loan.objects.filter(pk__in=among({f.loan_number for f in facts if f.loan_number}))
                   .values_list("pk", "boarded_on"))
    return [_before(f, boarded.get(f.loan_number)) if f.loan_number else None for f in facts]


def _before(fact: DatedFact, boarded_on: date | None) -> str | None:
    if boarded_on is not None and fact.on < boarded_on:
        return f"is before the loan was boarded on {boarded_on.isoformat()}"
    return None
