"""The dated-fact rules read many facts at once (a payment file's rows) and answer as one fact at a time does.

`ledger.business_time.dated_facts_problems` runs each registered rule's `many` form over every fact still
passing; for every fact it must give exactly the message `dated_fact_check` refuses that fact with.
"""
from datetime import date, timedelta

import pytest

from ledger.business_time import BusinessDateError, DatedFact, dated_fact_check, dated_facts_problems, today
from tests.actors import TESTS
from tests.integration.trusts.deals import TRUST, form, seed_deal
from trusts.services.pool import pool_loan_remove

pytestmark = pytest.mark.django_db
FEB15 = date(2026, 2, 15)


def one_at_a_time(fact: DatedFact) -> str | None:
    try:
        dated_fact_check(fact)
    except BusinessDateError as refused:
        return str(refused)
    return None


def test_many_facts_get_the_answers_each_gets_alone(trust):
    pool_loan_remove(trust_code=TRUST, loan_number="L001", removed_on=FEB15, kind="repurchase",
                     reason="breach of representations", acting_user=TESTS)
    form(seed_deal(code="ABC-2026-2", cutoff_date="2026-03-01", closing_date="2026-03-01",
                   first_payment_date="2026-04-25", loans=["L011"], holders=[],
                   classes=[{"name": "A", "face": "100000.00", "coupon": "net-wac"}]))
    days = (date(2026, 1, 10), date(2026, 1, 15), date(2026, 1, 16), date(2026, 2, 1), FEB15,
            date(2026, 2, 16), date(2026, 3, 1), date(2026, 3, 2), today() + timedelta(days=1))
    facts = [DatedFact(what="payment received", on=day, loan_number=loan)
             for loan in ("L001", "L002", "L011", "L012", "L999") for day in days]
    facts.append(DatedFact(what="removal", on=date(2026, 2, 1), trust_code=TRUST))

    answers = dated_facts_problems(facts)

    assert answers == [one_at_a_time(fact) for fact in facts]
    said = " ".join(a for a in answers if a)
    assert "settled with the seller" in said and "settled with the buyer" in said
    assert "before the loan was boarded" in said and "in the future" in said
    assert answers[facts.index(DatedFact(what="payment received", on=date(2026, 2, 16), loan_number="L001"))] is None
