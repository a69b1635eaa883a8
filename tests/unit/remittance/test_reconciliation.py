"""remittance.domain.reconciliation: the one home of a period's identity, and of "collected except realized loss"."""
from __future__ import annotations


from hypothesis import given, settings
from hypothesis import strategies as st

from remittance.domain.close_figures import COLLECTION_KINDS, principal_collected_cents
from remittance.selectors.period_facts import AMOUNTS, CASH_AMOUNTS
from remittance.domain.reconciliation import cash_collected_cents, closed_period_reconciliation, is_cash, reconcile
from tests.unit.remittance.test_closing import periods, seed_period_closed

cents = st.integers(min_value=0, max_value=10**11)
collected_by_kind = st.fixed_dictionaries({kind: st.integers(-10**9, 10**11) for kind in COLLECTION_KINDS})


@st.composite
def balanced(draw):
    """Figures that account for every cent: the out side split from the cash in, which is what came in."""
    collected = draw(collected_by_kind)
    advanced, recovered = draw(cents), draw(cents)
    returns_in, returns_out = draw(cents), draw(cents)
    cash_in = cash_collected_cents(collected) + advanced - recovered - returns_in + returns_out
    parts = [draw(st.integers(-10**11, 10**11)) for _ in range(4)]
    retained = cash_in - sum(parts)
    return dict(collected=collected, advanced_cents=advanced, recovered_cents=recovered,
                returns_carried_in_cents=returns_in, returns_carried_out_cents=returns_out, distributed_cents=cash_in,
                fee_paid_cents=parts[0], spread_paid_cents=parts[1], paid_to_holders_cents=parts[2],
                excess_cents=parts[3], retained_cents=retained)


OUT_TERMS = ("fee_paid_cents", "spread_paid_cents", "paid_to_holders_cents", "excess_cents", "retained_cents")
IN_TERMS = ("advanced_cents", "returns_carried_out_cents")


@settings(max_examples=300, deadline=None)
@given(balanced())
def test_figures_that_account_for_every_cent_reconcile(figures):
    r = reconcile(**figures)
    assert r.reconciled and r.problems == () and r.difference_cents == 0
    assert r.cash_in_cents == r.out_cents == r.distributed_cents
    assert r.recorded().cash_in_cents == r.recorded().out_cents == figures["distributed_cents"]


@settings(max_examples=300, deadline=None)
@given(balanced(), st.sampled_from(OUT_TERMS + IN_TERMS + ("recovered_cents", "returns_carried_in_cents")),
       st.integers(-10**9, 10**9).filter(bool))
def test_one_cent_anywhere_is_a_problem_that_says_by_how_much(figures, term, off):
    r = reconcile(**{**figures, term: figures[term] + off})
    assert not r.reconciled and r.problems
    sign = -1 if term in OUT_TERMS or term in ("recovered_cents", "returns_carried_in_cents") else 1
    assert r.difference_cents == sign * off


@settings(max_examples=200, deadline=None)
@given(balanced(), st.integers(-10**9, 10**9).filter(bool))
def test_cash_distributed_that_differs_from_both_sides_is_named(figures, off):
    r = reconcile(**{**figures, "distributed_cents": figures["distributed_cents"] + off})
    assert len(r.problems) == 2 and r.difference_cents == 0


@given(collected_by_kind)
def test_cash_collected_is_every_kind_but_the_realized_loss(collected):
    assert cash_collected_cents(collected) == sum(collected.values()) - collected["realized_loss"]
    assert principal_collected_cents(collected) == (cash_collected_cents(collected) - collected["interest"]
                                                    - collected["repurchase_interest"])


def test_the_same_rule_for_kinds_and_their_columns():
    assert [k for k in COLLECTION_KINDS if not is_cash(k)] == ["realized_loss"]
    assert set(AMOUNTS) - set(CASH_AMOUNTS) == {"realized_loss_cents"}


@settings(max_examples=150, deadline=None)
@given(periods())
def test_a_close_and_its_record_reconcile_the_same_way(period):
    figures, closed = seed_period_closed(*period)
    assert figures.reconciliation() == closed_period_reconciliation(closed)
    assert closed.reconciliation == figures.reconciliation().recorded()
    assert closed.reconciliation.cash_in_cents == closed.reconciliation.out_cents
