"""The close's figures from plain facts: fees, holder splits and the reconciliation, to the cent."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from remittance.domain.close_events import CloseContext, period_closed
from remittance.domain.close_figures import Carried, CloseRefused, LoanFacts, close_figures
from remittance.domain.waterfall import ClassState

SEED_FACE = 100_000_000


def seed_loan(number: str, **changes) -> LoanFacts:
    facts = dict(loan_number=number, balance_begin_cents=10_000_000, balance_end_cents=9_990_045,
                 note_rate=Decimal("6"), servicing_fee_rate=Decimal("0.6"), payment_pi_cents=59_955,
                 interest_cents=50_000, scheduled_principal_cents=9_955)
    return LoanFacts(**{**facts, **changes})


def seed_close(loans, classes=None, holders=None, faces=None):
    classes = classes or (ClassState(name="A", balance_cents=SEED_FACE, coupon=None),)
    return close_figures(
        loans=loans, carried=Carried(classes=tuple(classes)), issuer_spread_rate=Decimal("0.6"), scheduled=False,
        original_faces=faces or {"A": SEED_FACE},
        holders=holders if holders is not None else {"A": {f"INV-{i:02d}": 10_000_000 for i in range(1, 11)}},
    )


def seed_period_closed(loans, classes, holders, faces):
    """A drawn period's figures and the PeriodClosed its close records of them (April 2026 of trust T)."""
    figures = seed_close(loans, classes=classes, holders=holders, faces=faces)
    context = CloseContext(
        trust_code="T", period="2026-04", record_date=date(2026, 4, 30), payment_date=date(2026, 5, 25),
        through_position=9, previous_through=3, original_faces=faces, coupons={n: "5" for n in faces},
        pool_original_cents=max(1, sum(f.balance_begin_cents for f in loans)))
    return figures, period_closed(context, figures)


def test_the_seeds_first_month():
    f = seed_close([seed_loan(f"L{i:03d}") for i in range(1, 11)])
    assert (f.servicing_fee_due_cents, f.issuer_spread_due_cents) == (50_000, 50_000)
    assert {p.interest_cents + p.principal_cents for p in f.payments} == {49_955}
    assert f.paid_to_holders_cents == 499_550 and f.retained_cents == 0


def test_no_fee_on_a_loan_whose_interest_was_not_collected():
    loans = [seed_loan("L001"), seed_loan("L002", interest_cents=0, scheduled_principal_cents=0)]
    f = seed_close(loans)
    assert f.servicing_fee_due_cents == 5_000  # only L001's 50.00
    assert f.issuer_spread_due_cents == 10_000  # the spread is on the whole pool's balance


def test_unplaced_bonds_keep_their_share_in_the_trust():
    f = seed_close([seed_loan(f"L{i:03d}") for i in range(1, 11)],
                   holders={"A": {"INV-01": 60_000_000}})
    assert f.paid_to_holders_cents == 299_730 and f.retained_cents == 199_820


def test_negative_net_collections_are_carried_not_refused():
    # A return larger than the period's collections: nothing to distribute, the rest carried (it was refused).
    f = seed_close([seed_loan("L001", interest_cents=-50_000, scheduled_principal_cents=0)])
    assert f.cash_in_cents == 0 and f.paid_to_holders_cents == 0
    assert f.returns.outstanding == (50_000, 0) and f.servicer_remits_cents == 0


def test_a_negative_realized_loss_is_refused_with_the_reason():
    with pytest.raises(CloseRefused, match="net loss is -1.00"):
        seed_close([seed_loan("L001", realized_loss_cents=-100)])


def test_holders_over_the_face_are_refused():
    with pytest.raises(CloseRefused, match="hold more than its original face"):
        seed_close([seed_loan("L001")], holders={"A": {"INV-01": SEED_FACE + 1}})


cents = st.integers(min_value=0, max_value=5_000_000)


@st.composite
def periods(draw):
    loans = [
        seed_loan(f"L{i:03d}", balance_begin_cents=draw(st.integers(1, 50_000_000)),
                  note_rate=Decimal(draw(st.sampled_from(["4.5", "6", "7.25"]))),
                  servicing_fee_rate=Decimal(draw(st.sampled_from(["0.25", "0.5"]))),
                  interest_cents=draw(cents), scheduled_principal_cents=draw(cents), curtailment_cents=draw(cents),
                  realized_loss_cents=draw(st.integers(0, 1_000_000)), balance_end_cents=0)
        for i in range(draw(st.integers(1, 8)))
    ]
    names = ["A1", "A2", "B"][: draw(st.integers(1, 3))]
    faces = {n: draw(st.integers(1_000_000, 80_000_000)) for n in names}
    classes = [ClassState(name=n, balance_cents=faces[n] - draw(st.integers(0, faces[n] // 2)),
                          coupon=draw(st.sampled_from([None, Decimal("3"), Decimal("5.5")])) if n != "B" else None,
                          principal_rule="sequential", priority=i + 1)
               for i, n in enumerate(names)]
    holders = {}
    for n in names:
        left, held = faces[n], {}
        for h in range(draw(st.integers(0, 5))):
            piece = draw(st.integers(0, left))
            if piece:
                held[f"H{h}"] = piece
                left -= piece
        holders[n] = held
    return loans, classes, holders, faces


@settings(max_examples=300, deadline=None)
@given(periods())
def test_any_period_reconciles_and_every_split_sums_to_its_class(period):
    loans, classes, holders, faces = period
    f = seed_close(loans, classes=classes, holders=holders, faces=faces)
    f.check_reconciliation()
    w = f.waterfall
    assert f.cash_in_cents == (w.fee_paid_cents + w.spread_paid_cents + f.paid_to_holders_cents + f.excess_cents
                               + f.retained_cents)
    for c in w.classes:
        paid = [p for p in f.payments if p.class_name == c.name]
        unplaced = faces[c.name] - sum(holders[c.name].values())
        if not unplaced:
            assert sum(p.interest_cents for p in paid) == c.interest_paid_cents
            assert sum(p.principal_cents for p in paid) == c.principal_paid_cents
        assert all(p.interest_cents >= 0 and p.principal_cents >= 0 for p in paid)
