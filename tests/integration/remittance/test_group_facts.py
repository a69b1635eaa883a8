"""The group close's facts reader gives every trust the facts the one-trust reader gives it, to the cent.

A book of three trusts over five months with every kind of money the close
sees: installments, partial payments, curtailments, a payoff, a returned
payment netted as a prior-period item, a repurchase whose loan moves on to
another trust (and a true-up of its proceeds), missed installments advanced
on a scheduled/scheduled trust and recovered, a liquidation with a realized
loss, and a holder of bonds in two trusts. Before each month-end the facts
of all the trusts read together (remittance.selectors.group_facts) are
compared with each trust's facts read alone (remittance.selectors.period_facts),
at the log's head and at earlier positions (a removal recorded after the
position a close reads up to is not there yet); then the trusts close as one
group (remittance.services.closing.trusts_close), and verify_ledger re-derives
every close with the one-trust reader.
"""
from datetime import date

import pytest

from ledger.verification import verify
from remittance.domain.trust_calendar import Period, record_date
from remittance.selectors.group_facts import group_facts, holders_of_record_by_trust
from remittance.selectors.period_facts import (
    carried_into, loan_facts, log_head, period_standing, pool_original_cents, window_for,
)
from remittance.services.closing import close_groups, trusts_close
from servicing.services.default import foreclosure_start, loan_liquidate
from servicing.services.payoff import payoff_quote_get
from tests.actors import TESTS, payment_return
from tests.integration.remittance.months import INSTALLMENT_CENTS, SEED_LOANS, pay, seed_trust
from tests.integration.servicing.tapes import board
from tests.integration.trusts.deals import TRUST, form, seed_deal
from trusts.models import SecurityClass, Trust
from trusts.selectors import deal_structure, holders_of_record_by_class
from trusts.services.pool import pool_loan_remove

pytestmark = pytest.mark.django_db

SCHEDULED = "SCH-2026-1"
SCHEDULED_LOANS = [f"L{i:03d}" for i in range(13, 19)]
MOVED = "ABC-2026-2"  # L001, repurchased from the first trust on 10 March, and L011
MAR10 = date(2026, 3, 10)
L001_AFTER_FEB = 10_000_000 - 9_955


def _scheduled_trust():
    """Six loans, scheduled/scheduled; INV-01 to INV-06 hold its bonds too (their streams shared in a group)."""
    board(*({"loan_number": n} for n in SCHEDULED_LOANS))
    return form(seed_deal(code=SCHEDULED, name="Scheduled trust", first_payment_date="2026-03-25",
                          remittance_type="scheduled/scheduled", loans=SCHEDULED_LOANS,
                          classes=[{"name": "A", "face": "600000.00", "coupon": "net-wac",
                                    "principal": "pro-rata", "priority": 1, "denomination": "0.01"}],
                          holders=[{"code": f"INV-{i:02d}", "name": f"Investor {i}", "class": "A",
                                    "face": "100000.00"} for i in range(1, 7)]))


def _moved_trust():
    face = L001_AFTER_FEB - 10_005 + 10_000_000
    return form(seed_deal(code=MOVED, name="Second trust", cutoff_date="2026-03-10", closing_date="2026-03-10",
                          first_payment_date="2026-04-25", loans=["L001", "L011"], holders=[],
                          classes=[{"name": "A", "face": f"{face // 100}.{face % 100:02d}", "coupon": "net-wac",
                                    "denomination": "0.01"}]))


def _same_facts(codes: list[str], period: Period, through: int | None = None) -> int:
    """Compare the readers for these trusts at `through` (default: the head); returns how many loans compared."""
    through = log_head() if through is None else through
    trusts = list(Trust.objects.filter(code__in=codes).order_by("code"))
    together = group_facts(trusts, period, through)
    holders = holders_of_record_by_trust(together, {t.pk: record_date(period) for t in trusts})
    compared = 0
    for trust in trusts:
        facts = together[trust.pk]
        window = window_for(trust, period, through)
        alone = loan_facts(trust, period, window, scheduled=facts.scheduled)
        assert facts.window == window, trust.code
        assert sorted(facts.loans, key=lambda f: f.loan_number) == sorted(alone, key=lambda f: f.loan_number), \
            f"{trust.code} {period} through {through}"
        assert facts.carried == carried_into(trust, period), trust.code
        assert facts.pool_original_cents == pool_original_cents(trust), trust.code
        assert facts.structure == deal_structure(trust), trust.code
        assert facts.standing == period_standing(trust, period, through, structure=facts.structure, loans=alone,
                                                 cutoff_balance_cents=pool_original_cents(trust)), trust.code
        classes = list(SecurityClass.objects.filter(trust=trust))
        assert facts.classes == classes
        assert holders[trust.pk] == holders_of_record_by_class(classes=classes, record_date=record_date(period))
        compared += len(alone)
    return compared


def _month_end(codes: list[str], period: Period) -> dict[str, object]:
    """The readers compared, then the trusts closed as one group; answers each trust's PeriodClosed."""
    assert _same_facts(codes, period) > 0
    outcome = trusts_close(trust_codes=codes, period=period, as_of=period.next().first_day, acting_user=TESTS)
    assert sorted(o.trust_code for o in outcome.closed) == sorted(codes), outcome.as_dict()
    through = {o.result.through_position for o in outcome.closed}
    assert len(through) == 1  # one group, one read of the log
    return {o.trust_code: o.result.period_closed for o in outcome.closed}


def test_the_group_reader_and_the_one_trust_reader_agree_on_a_book_with_every_kind_of_money(loans):
    seed_trust()
    _scheduled_trust()
    first_two = [TRUST, SCHEDULED]

    feb = Period(2026, 2)
    for n in SEED_LOANS:
        if n == "L002":
            pay(n, feb, cents=INSTALLMENT_CENTS // 2)  # a partial payment
        elif n == "L003":
            pay(n, feb, cents=INSTALLMENT_CENTS + 1_500_000)  # a curtailment with the installment
        elif n != "L005":  # L005 misses February and March
            pay(n, feb)
    for n in SCHEDULED_LOANS:
        if n not in ("L013", "L015"):  # L013 misses February (advanced), L015 never pays again
            pay(n, feb)
    closed = _month_end(first_two, feb)
    assert closed[SCHEDULED].advanced_cents > 0

    mar = Period(2026, 3)
    pay("L001", mar, day=5)
    removal = pool_loan_remove(trust_code=TRUST, loan_number="L001", removed_on=MAR10, kind="repurchase",
                               reason="breach of representations", acting_user=TESTS)
    _moved_trust()
    payment_return(loan_number="L003", reference="T-2026-02-L003", returned_on=date(2026, 3, 12), reason="NSF",
                   fee_cents=0)  # a payment February's close passed on: a prior-period item in March
    for n in SEED_LOANS[1:]:
        if n != "L005":
            pay(n, mar)
    pay("L006", mar, cents=500_000, day=20, tag="-extra")  # a curtailment on its own
    pay("L013", mar, cents=2 * INSTALLMENT_CENTS)  # February's advance recovered
    for n in SCHEDULED_LOANS[2:]:
        if n != "L015":
            pay(n, mar)
    # As a close reading up to just before the removal would see it: L001 still in the first trust's pool.
    assert _same_facts([TRUST, SCHEDULED, MOVED], mar, through=removal.position - 1) > 0
    closed = _month_end([TRUST, SCHEDULED, MOVED], mar)
    assert closed[TRUST].prior_period_cents < 0 and closed[TRUST].collected["repurchase_principal"] > 0

    apr = Period(2026, 4)
    quote = payoff_quote_get(loan_number="L014", as_of=date(2026, 4, 10))
    pay("L014", apr, cents=quote.amount_due_cents, day=10)  # a payoff
    pay("L005", apr, cents=3 * INSTALLMENT_CENTS)  # caught up
    for n in ["L011", *SEED_LOANS[1:], "L013", "L016", "L017", "L018"]:
        if n != "L005":
            pay(n, apr)
    closed = _month_end([TRUST, SCHEDULED, MOVED], apr)
    assert closed[SCHEDULED].collected["payoff_principal"] > 0

    may = Period(2026, 5)
    for n in ["L011", *SEED_LOANS[1:], "L013", "L016", "L017", "L018"]:
        pay(n, may)
    _month_end([TRUST, SCHEDULED, MOVED], may)

    jun = Period(2026, 6)
    foreclosure_start(loan_number="L015", started_on=date(2026, 6, 5), acting_user=TESTS)
    loan_liquidate(loan_number="L015", liquidated_on=date(2026, 6, 15), gross_proceeds_cents=8_000_000,
                   costs_cents=600_000, acting_user=TESTS)
    for n in ["L011", *SEED_LOANS[1:], "L013", "L016", "L017", "L018"]:
        pay(n, jun)
    closed = _month_end([TRUST, SCHEDULED, MOVED], jun)
    assert closed[SCHEDULED].collected["realized_loss"] > 0 and closed[SCHEDULED].recovered_cents > 0

    report = verify()  # every close re-derived by the one-trust reader, and compared with what it recorded
    assert report.ok, report.problems


def test_the_readers_agree_on_a_structured_trust_with_a_delinquency_trigger(loans):
    """A trust whose triggers test delinquency (its standing reads the loans' positions) closes in one group
    with a standard one; L005 stops paying, so the 60+ balance grows; both readers give the same standing."""
    seed_trust(waterfall=["trustee_fee", "servicing_fee", "spread", "interest", "reserve_draw", "principal",
                          "losses", "reserve_deposit", "excess"],
               trustee_fee_rate="0.05", reserve_account={"target": "2000.00", "initial_deposit": "500.00"},
               triggers={"stepdown_period": 2, "delinquency_60_percent": "5", "delinquency_90_percent": "3"})
    _scheduled_trust()
    codes = [TRUST, SCHEDULED]
    standings = []
    for month in ("2026-02", "2026-03", "2026-04"):
        period = Period.parse(month)
        for n in [*SEED_LOANS, *SCHEDULED_LOANS]:
            if n != "L005":
                pay(n, period)
        closed = _month_end(codes, period)
        standings.append((closed[TRUST].triggers.delinquency_60_percent, closed[TRUST].period_number))
        assert closed[SCHEDULED].triggers is None and closed[SCHEDULED].period_number == len(standings)
    # L005 (10% of the pool) is 30 days late at February's end, 60 at March's, 90 at April's.
    assert [number for _, number in standings] == [1, 2, 3]
    assert standings[0][0] == 0 < standings[1][0] <= standings[2][0]
    report = verify()
    assert report.ok, report.problems


def test_close_groups_split_evenly():
    codes = [f"T{i:02d}" for i in range(10)]
    assert close_groups(codes, size=8) == [codes[:5], codes[5:]]
    assert close_groups(codes, at_least=3, size=8) == [codes[:4], codes[4:7], codes[7:]]
    assert close_groups(codes[:1], at_least=2) == [codes[:1]]
    assert close_groups([]) == []
