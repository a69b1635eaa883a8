"""Months of servicing for the remittance tests: the seed's trust, its borrowers paying, its closes."""
from datetime import date

from remittance.domain.trust_calendar import Period
from servicing.services.payments import payment_post
from tests.actors import period_close, TESTS
from tests.integration.trusts.deals import TRUST, form, seed_deal

INSTALLMENT_CENTS = 84_955  # 599.55 principal and interest + 250.00 escrow
SEED_LOANS = [f"L{i:03d}" for i in range(1, 11)]


def seed_trust(**changes):
    """The seed's trust, its first collection period February 2026 (paid on 25 March)."""
    return form(seed_deal(first_payment_date="2026-03-25", **changes))


def pay(loan: str, month: Period, cents: int = INSTALLMENT_CENTS, day: int = 1, tag: str = ""):
    return payment_post(loan_number=loan, amount_cents=cents, received_on=date(month.year, month.month, day),
                        reference=f"T-{month}-{loan}{tag}", acting_user=TESTS)


def pay_everyone(month: str, loans=SEED_LOANS, **kwargs):
    period = Period.parse(month)
    for loan in loans:
        pay(loan, period, **kwargs)


def close(period: str, trust: str = TRUST, **kwargs):
    """Close a period as of the first day after it."""
    p = Period.parse(period)
    return period_close(trust_code=trust, period=p, as_of=p.next().first_day, **kwargs)
