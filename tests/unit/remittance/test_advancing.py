"""Servicer advancing (scheduled/scheduled): advances, recoveries, payoffs, liquidations, conservation."""
from __future__ import annotations

import ast
import dataclasses
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.domain.money import dollars, monthly_rate_amount
from servicing.domain.amortization import scheduled_split
from remittance.domain.advancing import (
    AdvancingConservationError,
    AdvancingError,
    AdvancingResult,
    LoanAdvancing,
    LoanPeriod,
    advance_period,
)

# The seed loan: $100,000 at 6%, level payment 599.55.
SEED_BALANCE = 10_000_000
SEED_RATE = Decimal("6")
SEED_PAYMENT = 59_955


def period(**changes) -> LoanPeriod:
    """The seed loan in its first month, paying on time, with changes."""
    fields = dict(
        loan_number="L1",
        balance_begin_cents=SEED_BALANCE,
        note_rate=SEED_RATE,
        payment_pi_cents=SEED_PAYMENT,
        advancing=True,
        interest_collected_cents=50_000,
        scheduled_principal_collected_cents=9_955,
    )
    fields.update(changes)
    return LoanPeriod(**fields)


def next_period(result: LoanAdvancing, **changes) -> LoanPeriod:
    """The loan as it starts the month after `result`, collecting nothing unless told."""
    fields = dict(
        loan_number=result.loan_number,
        balance_begin_cents=result.balance_end_cents,
        advances_outstanding_interest_cents=result.outstanding_interest_after_cents,
        advances_outstanding_principal_cents=result.outstanding_principal_after_cents,
        interest_collected_cents=0,
        scheduled_principal_collected_cents=0,
    )
    fields.update(changes)
    return period(**fields)


def one(loan: LoanPeriod) -> LoanAdvancing:
    return advance_period([loan]).loans[0]


def missed_months(count: int) -> tuple[list[LoanAdvancing], LoanAdvancing]:
    """The seed loan missing its first `count` payments: every month's result, and the last."""
    results = [one(period(interest_collected_cents=0, scheduled_principal_collected_cents=0))]
    for _ in range(count - 1):
        results.append(one(next_period(results[-1])))
    return results, results[-1]


# ------------------------------------------------------------ performing


def test_a_current_loan_is_not_advanced_and_investors_get_what_was_collected():
    result = advance_period([period()])
    loan = result.for_loan("L1")
    assert (loan.scheduled_interest_cents, loan.scheduled_principal_cents) == (50_000, 9_955)
    assert loan.advanced_cents == loan.recovered_cents == loan.outstanding_after_cents == 0
    assert (loan.interest_to_investors_cents, loan.principal_to_investors_cents) == (50_000, 9_955)
    assert loan.loss_to_investors_cents == 0
    assert loan.balance_end_cents == loan.scheduled_balance_end_cents == SEED_BALANCE - 9_955
    assert (result.interest_to_investors_cents, result.principal_to_investors_cents) == (50_000, 9_955)


def test_a_current_loan_curtailment_passes_to_investors_and_is_not_advanced():
    loan = one(period(curtailment_cents=100_000))
    assert loan.advanced_cents == 0
    assert loan.principal_to_investors_cents == 9_955 + 100_000
    assert loan.balance_end_cents == SEED_BALANCE - 109_955


def test_the_seed_loan_missing_a_payment_is_advanced_then_recovered_when_it_pays_two():
    january = one(period(interest_collected_cents=0, scheduled_principal_collected_cents=0))
    assert dollars(january.advanced_interest_cents) == "500.00"
    assert dollars(january.advanced_principal_cents) == "99.55"
    assert (january.interest_to_investors_cents, january.principal_to_investors_cents) == (50_000, 9_955)
    assert january.balance_end_cents == SEED_BALANCE  # the borrower paid nothing
    assert january.scheduled_balance_end_cents == SEED_BALANCE - 9_955  # the investors were paid down

    # February: two installments, 1,199.10 = (500.00 + 99.55) + (499.50 + 100.05).
    february = one(next_period(january, interest_collected_cents=50_000 + 49_950,
                               scheduled_principal_collected_cents=9_955 + 10_005))
    # February's schedule runs on the balance after January's installment.
    assert dollars(february.scheduled_interest_cents) == "499.50"
    assert dollars(february.scheduled_principal_cents) == "100.05"
    assert dollars(february.recovered_cents) == "599.55"
    assert (february.recovered_interest_cents, february.recovered_principal_cents) == (50_000, 9_955)
    assert february.advanced_cents == 0
    assert dollars(february.interest_to_investors_cents) == "499.50"
    assert dollars(february.principal_to_investors_cents) == "100.05"
    assert february.outstanding_after_cents == 0
    assert february.balance_end_cents == february.scheduled_balance_end_cents == SEED_BALANCE - 19_960


def test_an_interest_only_payment_advances_only_principal():
    loan = one(period(scheduled_principal_collected_cents=0))
    assert (loan.advanced_interest_cents, loan.advanced_principal_cents) == (0, 9_955)
    assert (loan.interest_to_investors_cents, loan.principal_to_investors_cents) == (50_000, 9_955)
    assert (loan.outstanding_interest_after_cents, loan.outstanding_principal_after_cents) == (0, 9_955)


def test_a_late_installment_alone_recovers_its_own_kind_and_advances_the_current_one():
    _, january = missed_months(1)
    # February: only January's installment arrives.
    february = one(next_period(january, interest_collected_cents=50_000, scheduled_principal_collected_cents=9_955))
    # Interest: 500.00 collected against 499.50 scheduled repays 0.50 of January's advance.
    # Principal: 99.55 collected against 100.05 scheduled is advanced 0.50 more.
    assert (february.recovered_interest_cents, february.advanced_principal_cents) == (50, 50)
    assert (february.interest_to_investors_cents, february.principal_to_investors_cents) == (49_950, 10_005)
    # What is outstanding is exactly February's unpaid installment.
    assert (february.outstanding_interest_after_cents, february.outstanding_principal_after_cents) == (49_950, 10_005)


def test_advancing_false_advances_nothing():
    loan = one(period(advancing=False, interest_collected_cents=10_000, scheduled_principal_collected_cents=0))
    assert loan.advanced_cents == 0
    assert (loan.interest_to_investors_cents, loan.principal_to_investors_cents) == (10_000, 0)
    assert loan.scheduled_balance_end_cents == SEED_BALANCE


def test_a_zero_balance_loan_advances_nothing_and_late_interest_repays_its_interest_advance():
    loan = one(period(balance_begin_cents=0, interest_collected_cents=7_000, scheduled_principal_collected_cents=0,
                      advances_outstanding_interest_cents=5_000))
    assert (loan.scheduled_interest_cents, loan.scheduled_principal_cents, loan.advanced_cents) == (0, 0, 0)
    assert (loan.recovered_interest_cents, loan.interest_to_investors_cents) == (5_000, 2_000)
    assert loan.outstanding_after_cents == 0


def test_a_performing_loan_never_crosses_interest_and_principal():
    # Principal beyond the schedule and the principal advances does not repay
    # the interest advance: it goes to the investors, like the ledger's paydown.
    loan = one(period(interest_collected_cents=0, scheduled_principal_collected_cents=30_000,
                      advances_outstanding_interest_cents=40_000, advances_outstanding_principal_cents=10_000))
    assert loan.recovered_principal_cents == 10_000
    assert loan.recovered_interest_cents == 0
    assert loan.advanced_interest_cents == monthly_rate_amount(SEED_BALANCE - 10_000, SEED_RATE)
    assert loan.principal_to_investors_cents == 30_000 - 10_000
    assert loan.loss_to_investors_cents == 0
    assert loan.scheduled_balance_end_cents == loan.balance_end_cents - loan.outstanding_principal_after_cents


# ---------------------------------------------------------------- payoff


def test_a_payoff_repays_outstanding_advances_first():
    _, march = missed_months(2)  # January and February missed: 999.50 interest, 199.60 principal advanced
    assert (march.outstanding_interest_after_cents, march.outstanding_principal_after_cents) == (99_950, 19_960)
    payoff = one(next_period(march, interest_collected_cents=149_850, payoff_principal_cents=SEED_BALANCE))
    assert payoff.closes and payoff.advanced_cents == 0
    assert (payoff.recovered_interest_cents, payoff.recovered_principal_cents) == (99_950, 19_960)
    assert payoff.outstanding_after_cents == 0
    assert payoff.interest_to_investors_cents == 149_850 - 99_950
    # The investors get their whole balance in the loan: the ledger less what was advanced to them.
    assert payoff.principal_to_investors_cents == SEED_BALANCE - 19_960 == payoff.scheduled_balance_begin_cents
    assert payoff.loss_to_investors_cents == 0
    assert payoff.balance_end_cents == payoff.scheduled_balance_end_cents == 0


def test_a_payoff_short_of_interest_repays_interest_advances_from_principal_and_the_investors_lose_it():
    _, march = missed_months(2)
    payoff = one(next_period(march, payoff_principal_cents=SEED_BALANCE))
    assert payoff.principal_cash_to_interest_advances_cents == 99_950
    assert payoff.recovered_cents == 99_950 + 19_960
    assert payoff.principal_to_investors_cents == SEED_BALANCE - 19_960 - 99_950
    assert payoff.loss_to_investors_cents == 99_950  # realized loss 0 + principal used for interest advances


# ----------------------------------------------------------- liquidation


def test_a_liquidation_reimburses_advances_first_writes_off_the_rest_and_the_life_identity_holds():
    months, april = missed_months(3)
    assert (april.outstanding_interest_after_cents, april.outstanding_principal_after_cents) == (149_850, 30_015)
    liquidation = one(next_period(april, liquidation_principal_cents=8_000_000, liquidation_interest_cents=100_000,
                                  realized_loss_cents=2_000_000))
    # Interest proceeds 1,000.00 repay interest advances; principal proceeds repay the
    # principal advances (300.15), then the interest advances left (498.50).
    assert liquidation.recovered_from_interest_cash_cents == 100_000
    assert liquidation.recovered_principal_cents == 30_015
    assert liquidation.principal_cash_to_interest_advances_cents == 49_850
    assert liquidation.outstanding_after_cents == 0
    assert liquidation.interest_to_investors_cents == 0
    assert liquidation.principal_to_investors_cents == 8_000_000 - 30_015 - 49_850
    # Loss = realized loss + principal proceeds used for interest advances.
    assert liquidation.loss_to_investors_cents == 2_000_000 + 49_850
    months.append(liquidation)
    assert sum(m.principal_to_investors_cents + m.loss_to_investors_cents for m in months) == SEED_BALANCE


def test_a_liquidation_short_of_the_principal_advances_loses_the_investors_whole_balance():
    months, april = missed_months(3)
    liquidation = one(next_period(april, liquidation_principal_cents=10_000, liquidation_interest_cents=200_000,
                                  realized_loss_cents=SEED_BALANCE - 10_000))
    # Interest proceeds repay the interest advances (1,498.50), then principal advances (200.15);
    # the principal proceeds repay principal advances (100.00).
    assert liquidation.recovered_interest_cents == 149_850
    assert liquidation.interest_cash_to_principal_advances_cents == 20_015
    assert liquidation.recovered_principal_cents == 30_015
    assert liquidation.interest_to_investors_cents == 200_000 - 149_850 - 20_015
    assert liquidation.principal_to_investors_cents == 0
    assert liquidation.loss_to_investors_cents == SEED_BALANCE - 30_015 == liquidation.scheduled_balance_begin_cents
    months.append(liquidation)
    assert sum(m.principal_to_investors_cents + m.loss_to_investors_cents for m in months) == SEED_BALANCE


def test_what_liquidation_proceeds_cannot_repay_stays_outstanding_as_nonrecoverable():
    months, april = missed_months(3)
    liquidation = one(next_period(april, liquidation_principal_cents=10_000, realized_loss_cents=SEED_BALANCE - 10_000))
    assert liquidation.recovered_cents == 10_000
    assert (liquidation.outstanding_interest_after_cents, liquidation.outstanding_principal_after_cents) == (
        149_850, 20_015
    )
    assert liquidation.loss_to_investors_cents == liquidation.scheduled_balance_begin_cents
    months.append(liquidation)
    assert sum(m.principal_to_investors_cents + m.loss_to_investors_cents for m in months) == SEED_BALANCE


# ------------------------------------------------------------------ pool


def test_totals_are_the_sums_over_the_loans_in_the_order_given():
    loans = [
        period(loan_number="B"),
        period(loan_number="A", interest_collected_cents=0, scheduled_principal_collected_cents=0),
        period(loan_number="C", advancing=False, interest_collected_cents=0, scheduled_principal_collected_cents=0),
    ]
    result = advance_period(loans)
    assert [r.loan_number for r in result.loans] == ["B", "A", "C"]
    assert result.interest_to_investors_cents == 100_000
    assert result.principal_to_investors_cents == 2 * 9_955
    assert result.advanced_cents == result.outstanding_after_cents == 59_955
    assert result.recovered_cents == result.loss_to_investors_cents == result.outstanding_before_cents == 0
    with pytest.raises(KeyError):
        result.for_loan("D")


def test_an_empty_pool_is_all_zeros():
    result = advance_period([])
    assert result.loans == ()
    assert result.advanced_cents == result.interest_to_investors_cents == 0


# ------------------------------------------------------------ validation


@pytest.mark.parametrize(
    "changes, field",
    [
        (dict(interest_collected_cents=50_000.0), "interest_collected_cents"),
        (dict(curtailment_cents=True), "curtailment_cents"),
        (dict(payoff_principal_cents=-1), "payoff_principal_cents"),
        (dict(advances_outstanding_interest_cents=-5), "advances_outstanding_interest_cents"),
        (dict(note_rate=0.06), "note_rate"),
        (dict(note_rate=Decimal("NaN")), "note_rate"),
        (dict(advancing=1), "advancing"),
        (dict(liquidation_interest_cents=5), "liquidation_interest_cents"),
        (dict(payoff_principal_cents=5_000_000), "payoff_principal_cents"),
        (dict(scheduled_principal_collected_cents=SEED_BALANCE + 1), "scheduled_principal_collected_cents"),
        (dict(advances_outstanding_principal_cents=SEED_BALANCE + 1), "advances_outstanding_principal_cents"),
        # A curtailment larger than the investors' balance left in a delinquent loan.
        (dict(advances_outstanding_principal_cents=9_000_000, curtailment_cents=5_000_000), "curtailment_cents"),
    ],
)
def test_bad_inputs_are_refused_naming_the_loan_and_the_field(changes, field):
    with pytest.raises(AdvancingError, match=rf"loan L1: .*{field}") as raised:
        advance_period([period(**changes)])
    assert isinstance(raised.value, ValueError)


def test_duplicate_and_empty_loan_numbers_are_refused():
    with pytest.raises(AdvancingError, match="loan L1: loan_number appears more than once"):
        advance_period([period(), period()])
    with pytest.raises(AdvancingError, match="loan_number must be a non-empty string"):
        advance_period([period(loan_number="")])


def test_conservation_check_catches_a_moved_cent():
    result = advance_period([period(interest_collected_cents=0)])
    loan = result.loans[0]
    tampered = dataclasses.replace(loan, interest_to_investors_cents=loan.interest_to_investors_cents + 1)
    with pytest.raises(AdvancingConservationError, match="loan L1: interest cash"):
        dataclasses.replace(result, loans=(tampered,)).check_conservation()
    tampered = dataclasses.replace(loan, outstanding_interest_after_cents=0)
    with pytest.raises(AdvancingConservationError, match="do not roll forward"):
        dataclasses.replace(result, loans=(tampered,)).check_conservation()
    with pytest.raises(AdvancingConservationError, match="recovered_cents is not the sum"):
        dataclasses.replace(result, recovered_cents=1).check_conservation()
    assert issubclass(AdvancingConservationError, AssertionError)


def test_the_module_is_pure():
    """No Django, no database: only the standard library, dateutil, ledger.domain.money and the servicing's split."""
    allowed = {"__future__", "collections.abc", "dataclasses", "datetime", "decimal", "fractions",
               "dateutil.relativedelta", "ledger.domain.money", "servicing.domain.amortization", "servicing.domain.arguments"}
    root = Path(__file__).resolve().parents[3]
    for path in (root / "remittance" / "domain" / "advancing.py", root / "ledger" / "domain" / "money.py",
                 root / "servicing" / "domain" / "amortization.py", root / "servicing" / "domain" / "arguments.py"):
        tree = ast.parse(path.read_text())
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert imported <= allowed, (path.name, imported - allowed)


# ---------------------------------------------- property: random histories

KINDS = ("miss", "miss", "on_time", "on_time", "partial", "catch_up", "double", "random", "random")
ENDINGS = ("none",) * 9 + ("payoff", "liquidation")


@st.composite
def pools(draw) -> list[tuple[str, int, Decimal, int]]:
    loans = []
    for index in range(draw(st.integers(1, 4))):
        balance = draw(st.one_of(st.integers(0, 200), st.integers(10**5, 10**9)))
        rate = draw(st.decimals(min_value=0, max_value=15, places=3))
        payment = draw(st.integers(0, balance // 4 + 100))
        loans.append((f"L{index}", balance, rate, payment))
    return loans


def _draw_period(data, number: str, rate: Decimal, payment: int, state: dict) -> LoanPeriod:
    balance, owed_interest, owed_principal = state["balance"], state["owed_interest"], state["owed_principal"]
    scheduled_balance = balance - owed_principal
    s_i, s_p = scheduled_split(balance_cents=scheduled_balance, note_rate=rate, payment_cents=payment)
    kind = data.draw(st.sampled_from(KINDS))
    interest, principal = {
        "miss": (0, 0),
        "on_time": (s_i, s_p),
        "partial": (data.draw(st.integers(0, s_i)), 0),
        "catch_up": (s_i + owed_interest, s_p + owed_principal),
        "double": (2 * s_i, 2 * s_p),
        "random": (data.draw(st.integers(0, 2 * s_i + 1_000)), data.draw(st.integers(0, balance))),
    }[kind]
    principal = min(principal, balance)
    curtailment = 0
    if data.draw(st.booleans()):
        # Never more than the investors' balance left after this month's principal.
        curtailment = data.draw(st.integers(0, max(0, scheduled_balance - max(principal, s_p))))
    changes: dict[str, int] = {}
    rest = balance - principal - curtailment
    ending = data.draw(st.sampled_from(ENDINGS)) if rest > 0 else "none"
    if ending == "payoff":
        changes = dict(payoff_principal_cents=rest)
    elif ending == "liquidation":
        proceeds = data.draw(st.one_of(st.integers(0, min(rest, 1_000)), st.integers(0, rest)))
        changes = dict(
            liquidation_principal_cents=proceeds,
            realized_loss_cents=rest - proceeds,
            liquidation_interest_cents=data.draw(st.one_of(st.just(0), st.integers(0, 10**6))),
        )
    return LoanPeriod(
        loan_number=number,
        balance_begin_cents=balance,
        note_rate=rate,
        payment_pi_cents=payment,
        advancing=data.draw(st.sampled_from((True,) * 5 + (False,))),
        interest_collected_cents=interest,
        scheduled_principal_collected_cents=principal,
        curtailment_cents=curtailment,
        advances_outstanding_interest_cents=owed_interest,
        advances_outstanding_principal_cents=owed_principal,
        **changes,
    )


def _assert_totals(result: AdvancingResult) -> None:
    loans = result.loans
    assert result.interest_to_investors_cents == sum(r.interest_to_investors_cents for r in loans)
    assert result.principal_to_investors_cents == sum(r.principal_to_investors_cents for r in loans)
    assert result.loss_to_investors_cents == sum(r.loss_to_investors_cents for r in loans)
    assert result.advanced_cents == sum(r.advanced_interest_cents + r.advanced_principal_cents for r in loans)
    assert result.recovered_cents == sum(r.recovered_interest_cents + r.recovered_principal_cents for r in loans)
    assert result.outstanding_after_cents == sum(
        r.outstanding_interest_after_cents + r.outstanding_principal_after_cents for r in loans
    )


@settings(max_examples=200, deadline=None)
@given(pool=pools(), months=st.integers(1, 10), data=st.data())
def test_random_histories_conserve_every_cent_and_keep_the_life_identity(pool, months, data):
    states = {
        number: dict(balance=balance, owed_interest=0, owed_principal=0, to_investors=0, closed=False)
        for number, balance, _, _ in pool
    }
    starting = {number: balance for number, balance, _, _ in pool}
    for _ in range(months):
        loans = [
            _draw_period(data, number, rate, payment, states[number])
            for number, _, rate, payment in pool
            if not states[number]["closed"]
        ]
        if not loans:
            break
        result = advance_period(loans)
        result.check_conservation()
        _assert_totals(result)
        for loan, r in zip(loans, result.loans):
            state = states[loan.loan_number]
            assert r.outstanding_interest_after_cents >= 0 and r.outstanding_principal_after_cents >= 0
            assert r.recovered_interest_cents <= loan.advances_outstanding_interest_cents
            assert r.recovered_principal_cents <= loan.advances_outstanding_principal_cents
            if r.closes or not loan.advancing:
                assert r.advanced_cents == 0
            else:
                # Scheduled/scheduled: the investors get at least the schedule.
                assert r.interest_to_investors_cents >= r.scheduled_interest_cents
                assert r.principal_to_investors_cents >= r.scheduled_principal_cents + loan.curtailment_cents
            if not r.closes:
                assert r.loss_to_investors_cents == 0
            state.update(
                balance=r.balance_end_cents,
                owed_interest=r.outstanding_interest_after_cents,
                owed_principal=r.outstanding_principal_after_cents,
                to_investors=state["to_investors"] + r.principal_to_investors_cents + r.loss_to_investors_cents,
                closed=r.closes,
            )
            start = starting[loan.loan_number]
            # Every month: the investors hold the ledger balance less the principal advanced to them.
            if r.closes:
                assert r.balance_end_cents == 0
                assert state["to_investors"] == start
            else:
                assert state["to_investors"] == start - (r.balance_end_cents - r.outstanding_principal_after_cents)
            # The life identity, once nothing is outstanding (or the loan is gone).
            if r.closes or r.outstanding_after_cents == 0:
                assert state["to_investors"] == start - r.balance_end_cents


# ------------------------------- property: whole installments paid in order


def _installment(balance: int, rate: Decimal, payment: int) -> tuple[int, int]:
    """The borrower's next installment on its own ledger: (interest, principal)."""
    interest = monthly_rate_amount(balance, rate)
    return interest, min(balance, max(0, payment - interest))


@settings(max_examples=200, deadline=None)
@given(
    balance=st.integers(0, 10**9),
    rate=st.decimals(min_value=0, max_value=15, places=3),
    payment_share=st.integers(1, 400),
    plan=st.lists(st.integers(0, 3), min_size=1, max_size=12),
)
def test_installments_paid_in_order_however_late_are_advanced_and_recovered_exactly(
    balance, rate, payment_share, plan
):
    payment = balance * payment_share // 10_000 + 1
    ledger = balance  # the borrower's ledger, amortized installment by installment as paid
    schedule = balance  # the balance after every installment due so far
    unpaid: list[tuple[int, int]] = []  # installments due and not paid, oldest first
    owed = (0, 0)
    for paying in plan:
        due = _installment(schedule, rate, payment)
        schedule -= due[1]
        # The borrower pays up to `paying` of the oldest installments, the new one included.
        paid = []
        for _ in range(min(paying, len(unpaid) + 1)):
            installment = _installment(ledger, rate, payment)
            ledger -= installment[1]
            paid.append(installment)
        r = one(
            LoanPeriod(
                loan_number="L1",
                balance_begin_cents=ledger + sum(p for _, p in paid),
                note_rate=rate,
                payment_pi_cents=payment,
                advancing=True,
                interest_collected_cents=sum(i for i, _ in paid),
                scheduled_principal_collected_cents=sum(p for _, p in paid),
                advances_outstanding_interest_cents=owed[0],
                advances_outstanding_principal_cents=owed[1],
            )
        )
        unpaid = (unpaid + [due])[len(paid):]
        assert (r.scheduled_interest_cents, r.scheduled_principal_cents) == due
        assert (r.interest_to_investors_cents, r.principal_to_investors_cents) == due
        owed = (r.outstanding_interest_after_cents, r.outstanding_principal_after_cents)
        assert owed == (sum(i for i, _ in unpaid), sum(p for _, p in unpaid))
        assert r.scheduled_balance_end_cents == schedule
        assert r.balance_end_cents == ledger
