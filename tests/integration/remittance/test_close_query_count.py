"""The month-end close and the trust forming run a fixed number of SQL queries, whatever the deal's size.

Each measurement forms (or forms and closes) a trust of a given number of
loans and holders, inside CaptureQueriesContext. A small and a ten times
larger deal must run exactly the same number of queries: work grows in
rows per query (bulk inserts and grouped reads), never in queries per row.
The sizes stay below 1,000 rows of any kind (events, postings, read-model
rows), the bulk writers' chunk size, so no chunk boundary adds a query.
"""
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from remittance.domain.trust_calendar import Period
from tests.actors import period_close
from tests.integration.remittance.months import pay
from tests.integration.servicing.tapes import board
from tests.integration.trusts.deals import form, seed_deal

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db]

LOAN_CENTS = 10_000_000  # each test loan is boarded at $100,000.00
FIRST_PERIOD = "2026-02"  # the trusts' first collection period (first payment on 25 March)


@dataclass(frozen=True)
class Deal:
    """A trust's size: loans in the pool and holders on the register (classes A and B, 9 to 1)."""

    code: str
    loans: int
    holders: int
    first_loan: int = 1  # loan numbers first_loan .. first_loan + loans - 1, so deals do not share loans

    @property
    def loan_numbers(self) -> list[str]:
        return [f"L{i:03d}" for i in range(self.first_loan, self.first_loan + self.loans)]

    def deal_file(self) -> dict:
        """Class A takes 90% of the pool, B 10%; every holder holds the same face in one class."""
        pool = self.loans * LOAN_CENTS
        each = pool // self.holders
        in_b = self.holders // 10
        holders = [{"code": f"{self.code}-H{i:03d}", "name": f"Holder {i} of {self.code}",
                    "class": "B" if i <= in_b else "A", "face": _dollars(each)}
                   for i in range(1, self.holders + 1)]
        classes = [
            {"name": "A", "face": _dollars(each * (self.holders - in_b)), "coupon": "net-wac",
             "principal": "sequential", "priority": 1},
            {"name": "B", "face": _dollars(each * in_b), "coupon": "net-wac", "principal": "sequential",
             "priority": 2},
        ]
        return seed_deal(code=self.code, name=f"Trust {self.code}", first_payment_date="2026-03-25",
                         loans=self.loan_numbers, classes=classes, holders=holders)


SMALL = Deal("QC-SMALL", loans=20, holders=10, first_loan=1)
LARGE = Deal("QC-LARGE", loans=200, holders=100, first_loan=21)


def _dollars(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _board(*deals: Deal) -> None:
    """Board every deal's loans on one tape (boarded on the trusts' cut-off, 15 January 2026)."""
    board(*({"loan_number": n} for d in deals for n in d.loan_numbers))


def _forming_queries(deal: Deal) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        form(deal.deal_file())
    return [q["sql"] for q in captured.captured_queries]


def _close_queries(deal: Deal) -> list[str]:
    """Form the trust, let every borrower pay February (one a curtailment), then capture the close."""
    form(deal.deal_file())
    period = Period.parse(FIRST_PERIOD)
    for number in deal.loan_numbers:
        pay(number, period)
    pay(deal.loan_numbers[0], period, cents=500_000, day=10, tag="-extra")
    with CaptureQueriesContext(connection) as captured:
        outcome = period_close(trust_code=deal.code, period=FIRST_PERIOD, as_of=date(2026, 3, 1))
    assert outcome.result.period_closed.holder_payments == deal.holders
    return [q["sql"] for q in captured.captured_queries]


def _shape(sql: str) -> str:
    """A query without its values, so that the same query for another loan or holder reads the same."""
    sql = re.sub(r'"s\d+_x\d+"', '"savepoint"', sql)
    sql = re.sub(r"'(?:[^']|'')*'", "?", sql)
    sql = re.sub(r"\b\d+\b", "?", sql)
    return re.sub(r"\((?:\?(?:::\w+)?,\s*)+\?(?:::\w+)?\)", "(?...)", sql)


def _report(small: list[str], large: list[str]) -> str:
    """Both counts, and the queries the larger deal ran more often (what grows with rows)."""
    lines = [f"{SMALL.loans} loans / {SMALL.holders} holders: {len(small)} queries; "
             f"{LARGE.loans} loans / {LARGE.holders} holders: {len(large)} queries"]
    grown = Counter(map(_shape, large)) - Counter(map(_shape, small))
    lines += [f"  {n} more: {shape[:400]}" for shape, n in grown.most_common(10)]
    return "\n".join(lines)


@pytest.mark.parametrize("measure", [_forming_queries, _close_queries], ids=["forming", "close"])
def test_query_count_does_not_grow_with_loans_or_holders(measure):
    _board(SMALL, LARGE)
    small, large = measure(SMALL), measure(LARGE)
    assert len(small) == len(large), _report(small, large)
    print(_report(small, large))
