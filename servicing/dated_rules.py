"""Servicing's part of the one business-time rule (ledger.business_time): a loan's facts are not dated
before the loan was boarded, since before that day it was another servicer's to record."""
from __future__ import annotations

from ledger.business_time import DatedFact
from servicing.models import Loan


def not_before_boarding(fact: DatedFact) -> str | None:
    if not fact.loan_number:
        return None
    boarded_on = Loan.objects.filter(pk=fact.loan_number).values_list("boarded_on", flat=True).first()
    if boarded_on is not None and fact.on < boarded_on:
        return f"is before the loan was boarded on {boarded_on.isoformat()}"
    return None
