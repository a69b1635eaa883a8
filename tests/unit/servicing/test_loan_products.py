"""Loan products to the cent: interest-only, balloon and ARM schedules against numpy-financial and hand-checked
tables; the ARM's rounding, caps, floor, change dates and notice windows; payment application and payoff on a
terms timeline (property tests); the tape's product columns and its refusals."""
from __future__ import annotations

import dataclasses
import json
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import numpy_financial as npf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicing.domain.arm import (
    NO_ROUNDING, ArmTerms, adjusted_rate, change_dates, lookback_date, notice_dates, round_rate,
)
from servicing.domain.loan_terms import LoanTerms, TermsStep, product_schedule, scheduled_balance_cents, terms_on
from servicing.domain.loan_tape import TAPE_COLUMNS, parse_tape
from servicing.domain.money_position import MoneyPosition
from servicing.domain.payment_application import apply_payment
from servicing.domain.payoff_quotes import payoff_quote
from servicing.events import LoanBoarded
from servicing.domain.terms_changes import ARM_RESET, IO_PERIOD_ENDED, Figures, decide, scheduled_changes

D = date.fromisoformat
FIRST = D("2026-02-01")
ARM_5_1 = ArmTerms(index="SOFR30A", margin=Decimal("2.75"), rounding="nearest_eighth", lookback_days=45,
                   first_change_months=60, change_every_months=12, first_cap=Decimal("2"), periodic_cap=Decimal("1"),
                   lifetime_cap=Decimal("5"), floor=Decimal("2.75"))


def cents(value: float) -> int:
    """A numpy-financial amount rounded our way: half up, to the cent."""
    return int(Decimal(str(float(value))).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def npf_rows(principal: int, rate: Decimal, payment: int, months: int) -> list[tuple[int, int, int]]:
    """(interest, principal, balance after) month by month, each interest rounded to the cent as a servicer
    books it, the level payment as numpy-financial computes it."""
    rows, balance = [], principal
    for _ in range(months):
        interest = cents(balance * float(rate) / 1200)
        paid = min(payment - interest, balance)
        balance -= paid
        rows.append((interest, paid, balance))
    return rows


# --- Schedules against numpy-financial -------------------------------------------------------------------


@pytest.mark.parametrize("principal, rate, term", [(30_000_000, Decimal("6.5"), 360), (12_345_678, Decimal("4.125"), 180),
                                                   (50_000_000, Decimal("7.875"), 480)])
def test_a_fixed_loans_schedule_is_numpy_financials_payment_and_split(principal, rate, term):
    terms = LoanTerms.fixed(term)
    rows = product_schedule(terms=terms, principal_cents=principal, note_rate=rate, first_payment_date=FIRST)
    payment = cents(-npf.pmt(float(rate) / 1200, term, principal))
    assert rows[0].payment_cents == payment
    # The first installment's split is numpy-financial's ipmt/ppmt to the cent.
    assert rows[0].interest_cents == cents(-npf.ipmt(float(rate) / 1200, 1, term, principal))
    assert rows[0].principal_cents == payment - rows[0].interest_cents
    expected = npf_rows(principal, rate, payment, term - 1)
    assert [(r.interest_cents, r.principal_cents, r.balance_cents_after) for r in rows[:-1]] == expected
    assert rows[-1].balance_cents_after == 0 and len(rows) == term
    # Rounding each month's interest drifts from the unrounded balance by a few cents only.
    assert abs(rows[119].balance_cents_after - cents(npf.fv(float(rate) / 1200, 120, payment, -principal))) <= 60


def test_an_interest_only_loan_pays_interest_then_recasts_over_the_months_left():
    principal, rate = 40_000_000, Decimal("6")
    terms = LoanTerms(product="fixed", term_months=360, amortization_months=360, interest_only_months=120)
    rows = product_schedule(terms=terms, principal_cents=principal, note_rate=rate, first_payment_date=FIRST)
    assert {(r.payment_cents, r.principal_cents) for r in rows[:120]} == {(200_000, 0)}  # 400,000 at 6% a month
    recast = cents(-npf.pmt(0.005, 240, principal))
    assert rows[120].payment_cents == recast == 286_572
    assert [(r.interest_cents, r.principal_cents, r.balance_cents_after) for r in rows[120:-1]] == npf_rows(
        principal, rate, recast, 239)
    assert rows[-1].balance_cents_after == 0 and rows[-1].due_date == D("2056-01-01")


def test_a_balloon_pays_the_level_payment_of_its_amortization_and_the_whole_balance_at_maturity():
    principal, rate = 20_000_000, Decimal("7")
    terms = LoanTerms(product="fixed", term_months=120, amortization_months=360)
    rows = product_schedule(terms=terms, principal_cents=principal, note_rate=rate, first_payment_date=FIRST)
    payment = cents(-npf.pmt(7 / 1200, 360, principal))
    assert len(rows) == 120 and {r.payment_cents for r in rows[:-1]} == {payment} == {133_060}
    balance_before = rows[-2].balance_cents_after
    assert abs(balance_before - cents(npf.fv(7 / 1200, 119, payment, -principal))) <= 20
    last = rows[-1]
    assert last.principal_cents == balance_before and last.balance_cents_after == 0
    assert last.payment_cents == balance_before + cents(balance_before * 7 / 1200) == last.interest_cents + balance_before
    assert terms.balloon_due_date(FIRST) == last.due_date == D("2036-01-01")


def test_an_arm_recasts_at_each_change_on_the_scheduled_balance_over_the_term_left():
    principal = 30_000_000
    terms = LoanTerms(product="arm", term_months=360, amortization_months=360, arm=ARM_5_1)
    rows = product_schedule(terms=terms, principal_cents=principal, note_rate=Decimal("5"), first_payment_date=FIRST,
                            rates={61: Decimal("7"), 73: Decimal("6.5")})
    first = cents(-npf.pmt(5 / 1200, 360, principal))
    assert rows[59].payment_cents == first == 161_046
    balance_60 = rows[59].balance_cents_after
    reset = cents(-npf.pmt(7 / 1200, 300, balance_60))
    assert rows[60].payment_cents == reset and rows[60].note_rate == Decimal("7")
    assert [(r.interest_cents, r.principal_cents) for r in rows[60:72]] == [
        (i, p) for i, p, _ in npf_rows(balance_60, Decimal("7"), reset, 12)]
    assert rows[72].payment_cents == cents(-npf.pmt(6.5 / 1200, 288, rows[71].balance_cents_after))
    assert rows[-1].balance_cents_after == 0


# --- The ARM's rules ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw, mode, rounded", [
    ("7.0625", "nearest_eighth", "7.1250"), ("7.0624", "nearest_eighth", "7.0000"), ("7.19", "nearest_eighth", "7.2500"), ("7.1875", "nearest_eighth", "7.2500"),
    ("7.0001", "up_eighth", "7.1250"), ("7.1250", "up_eighth", "7.1250"), ("7.12345", NO_ROUNDING, "7.1235"),
    ("4.37512", NO_ROUNDING, "4.3751"),
])
def test_each_rounding_mode(raw, mode, rounded):
    assert round_rate(Decimal(raw), mode) == Decimal(rounded)


def test_the_first_cap_binds_at_the_first_change_and_the_periodic_cap_after():
    # 5.5 + 2.75 = 8.25: two points above the initial 6% at most at the first change.
    first = adjusted_rate(ARM_5_1, index_value=Decimal("5.5"), rate_before=Decimal("6"), initial_rate=Decimal("6"),
                          first=True)
    assert (first.fully_indexed_rate, first.rounded_rate, first.note_rate, first.limited_by) == (
        Decimal("8.25"), Decimal("8.25"), Decimal("8"), "first_cap")
    later = adjusted_rate(ARM_5_1, index_value=Decimal("0.51"), rate_before=Decimal("8"), initial_rate=Decimal("6"),
                          first=False)
    assert (later.rounded_rate, later.note_rate, later.limited_by) == (Decimal("3.25"), Decimal("7"), "periodic_cap")
    free = adjusted_rate(ARM_5_1, index_value=Decimal("4.31"), rate_before=Decimal("7"), initial_rate=Decimal("6"),
                         first=False)
    assert (free.note_rate, free.limited_by) == (Decimal("7.0000"), "")


def test_the_lifetime_cap_and_the_floor_bound_the_rate():
    wide = ArmTerms(**{**{f: getattr(ARM_5_1, f) for f in ARM_5_1.__slots__}, "periodic_cap": Decimal("10"),
                       "lifetime_cap": Decimal("3"), "floor": Decimal("4")})
    high = adjusted_rate(wide, index_value=Decimal("9"), rate_before=Decimal("7"), initial_rate=Decimal("6"), first=False)
    assert (high.note_rate, high.limited_by) == (Decimal("9"), "lifetime_cap")
    low = adjusted_rate(wide, index_value=Decimal("0.10"), rate_before=Decimal("7"), initial_rate=Decimal("6"),
                        first=False)
    assert (low.rounded_rate, low.note_rate, low.limited_by) == (Decimal("2.875"), Decimal("4"), "floor")


def test_change_dates_lookback_and_reg_z_notice_windows():
    changes = change_dates(ARM_5_1, first_payment_date=FIRST, term_months=360)
    assert len(changes) == 25  # installments 61, 73, ..., 349
    assert (changes[0].first_installment, changes[0].first_due_date, changes[0].change_date) == (
        61, D("2031-02-01"), D("2031-01-01"))
    assert changes[1].first_due_date == D("2032-02-01") and changes[-1].first_installment == 349
    assert lookback_date(ARM_5_1, changes[0].change_date) == D("2030-11-17")
    first = notice_dates(changes[0].first_due_date, first=True)
    assert (first.notice_from, first.notice_by) == (D("2030-10-04"), D("2030-12-03"))  # 120 and 60 days before
    assert (first.initial_notice_from, first.initial_notice_by) == (D("2030-06-06"), D("2030-07-06"))  # 240, 210
    later = notice_dates(changes[1].first_due_date, first=False)
    assert later.initial_notice_from is None and later.notice_by == D("2031-12-03")


def test_an_arm_with_interest_only_has_one_change_where_the_period_ends_on_a_rate_change():
    terms = LoanTerms(product="arm", term_months=360, amortization_months=360, interest_only_months=60, arm=ARM_5_1)
    changes = scheduled_changes(terms, FIRST)
    assert changes[0].reason == ARM_RESET and changes[0].first_installment == 61
    io_only = LoanTerms(product="fixed", term_months=360, amortization_months=360, interest_only_months=84)
    (end,) = scheduled_changes(io_only, FIRST)
    assert (end.reason, end.first_due_date, end.recordable_on) == (IO_PERIOD_ENDED, D("2033-02-01"), D("2032-10-04"))


def test_a_change_on_a_loan_that_is_behind_recasts_on_the_balance_scheduled_not_on_the_arrears():
    terms = LoanTerms(product="arm", term_months=360, amortization_months=360, arm=ARM_5_1)
    rows = product_schedule(terms=terms, principal_cents=30_000_000, note_rate=Decimal("5"), first_payment_date=FIRST)
    # Three installments behind: next due 2030-11-01 (installment 58), on the balance before it.
    behind = Figures(principal_balance_cents=rows[56].balance_cents_after, next_due_date=D("2030-11-01"),
                     note_rate=Decimal("5"), payment_pi_cents=161_046, balloon_due_date=None, timeline=())
    change = scheduled_changes(terms, FIRST)[0]
    decision = decide(change, terms=terms, initial_rate=Decimal("5"), figures=behind, index_value=Decimal("5.5"))
    assert decision.scheduled_balance_cents == rows[59].balance_cents_after
    assert (decision.note_rate, decision.limited_by) == (Decimal("7"), "first_cap")
    assert decision.payment_pi_cents == cents(-npf.pmt(7 / 1200, 300, rows[59].balance_cents_after))


# --- Payments and payoff on a terms timeline ---------------------------------------------------------------

TIMELINE = (TermsStep(None, Decimal("5"), 161_046), TermsStep(D("2031-02-01"), Decimal("7"), 196_080))


def _behind(**changes) -> MoneyPosition:
    values = dict(principal_balance_cents=27_546_950, note_rate=Decimal("5"), payment_pi_cents=161_046,
                  escrow_monthly_cents=30_000, next_due_date=D("2030-12-01"), terms_timeline=TIMELINE)
    values.update(changes)
    return MoneyPosition(**values)


def test_a_late_payment_pays_the_installment_before_the_change_at_the_old_terms_and_the_next_at_the_new():
    position = _behind()
    # Two installments: 2030-12-01 at 5% / 1,610.46 and 2031-01-01 also before the change; 2031-02-01 at 7%.
    app = apply_payment(position=position, amount_cents=3 * 191_046 + 35_034, received_on=D("2031-02-10"))
    interest_1 = cents(27_546_950 * 5 / 1200)
    balance_1 = 27_546_950 - (161_046 - interest_1)
    interest_2 = cents(balance_1 * 5 / 1200)
    balance_2 = balance_1 - (161_046 - interest_2)
    interest_3 = cents(balance_2 * 7 / 1200)
    assert app.installments_paid == 3 and app.due_dates_paid[-1] == D("2031-02-01")
    assert app.interest_cents == interest_1 + interest_2 + interest_3
    assert app.principal_cents == (161_046 - interest_1) + (161_046 - interest_2) + (196_080 - interest_3)
    assert app.to_suspense_cents == 0 and app.curtailment_cents == 0


def test_a_payment_received_before_the_change_still_pays_its_installments_on_their_own_terms():
    app = apply_payment(position=_behind(next_due_date=D("2031-02-01")), amount_cents=196_080 + 30_000,
                        received_on=D("2031-01-20"))
    assert app.installments_paid == 1 and app.interest_cents == cents(27_546_950 * 7 / 1200)


def test_a_payoff_over_a_change_accrues_each_month_at_its_own_rate():
    quote = payoff_quote(position=_behind(), as_of=D("2031-02-16"))
    # From 2030-11-01 (paid through): 60 days at 5% to the change date 2031-01-01, then 45 days at 7%.
    expected = Decimal(27_546_950) * (Decimal(5) * 60 + Decimal(7) * 45) / Decimal(36000)
    assert quote.interest_cents == int(expected.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    assert quote.interest_days == 105


@st.composite
def timeline_positions(draw):
    balance = draw(st.integers(100_000, 60_000_000))
    rate = Decimal(draw(st.integers(0, 120_000))) / Decimal(10_000)
    payment = max(1, cents(balance * float(rate) / 1200)) + draw(st.integers(0, 300_000))
    due = draw(st.dates(D("2026-01-01"), D("2030-12-01"))).replace(day=1)
    steps = [TermsStep(None, rate, payment)]
    for months in sorted(draw(st.sets(st.integers(-2, 6), max_size=2))):
        new_rate = Decimal(draw(st.integers(0, 120_000))) / Decimal(10_000)
        steps.append(TermsStep(date(due.year + (due.month - 1 + months) // 12, (due.month - 1 + months) % 12 + 1, 1),
                               new_rate, cents(balance * float(new_rate) / 1200) + draw(st.integers(0, 300_000))))
    rate, payment = terms_on(steps, due, rate, payment)
    balloon = draw(st.none() | st.integers(0, 6))
    return MoneyPosition(
        principal_balance_cents=balance, note_rate=rate, payment_pi_cents=max(payment, cents(balance * float(rate) / 1200)),
        escrow_monthly_cents=draw(st.integers(0, 50_000)), next_due_date=due,
        suspense_cents=draw(st.integers(0, 100_000)), late_charges_due_cents=draw(st.integers(0, 10_000)),
        fees_due_cents=draw(st.integers(0, 10_000)),
        balloon_due_date=None if balloon is None else date(due.year + (due.month - 1 + balloon) // 12,
                                                           (due.month - 1 + balloon) % 12 + 1, 1),
        terms_timeline=tuple(steps))


@settings(max_examples=300, deadline=None)
@given(timeline_positions(), st.integers(1, 5_000_000), st.integers(-20, 300))
def test_every_cent_of_a_payment_is_applied_and_no_balance_goes_below_zero(position, amount, days):
    received = date.fromordinal(position.next_due_date.toordinal() + days)
    app = apply_payment(position=position, amount_cents=amount, received_on=received)
    assert (app.interest_cents + app.principal_cents + app.escrow_cents + app.late_charges_cents + app.fees_cents
            + app.curtailment_cents + app.to_suspense_cents - app.from_suspense_cents) == amount
    after = app.position_after
    for name in ("principal_balance_cents", "suspense_cents", "late_charges_due_cents", "fees_due_cents"):
        assert getattr(after, name) >= 0
    # Each installment paid is split on the terms of its own due date (a balloon's last: the whole balance).
    balance, interest_paid = position.principal_balance_cents, 0
    for due in app.due_dates_paid:
        rate, pi = terms_on(position.terms_timeline, due, position.note_rate, position.payment_pi_cents)
        interest = int((Decimal(balance) * rate / 1200).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        last = position.balloon_due_date is not None and due >= position.balloon_due_date
        balance -= balance if last else min(max(pi - interest, 0), balance)
        interest_paid += interest
    assert interest_paid == app.interest_cents
    assert balance - app.curtailment_cents == after.principal_balance_cents


def test_scheduled_balance_runs_each_installment_on_its_terms():
    balance = scheduled_balance_cents(balance_cents=10_000_000, next_due=D("2031-01-01"), until=D("2031-03-01"),
                                      steps=(TermsStep(None, Decimal("6"), 59_955),
                                             TermsStep(D("2031-02-01"), Decimal("12"), 120_000)),
                                      rate=Decimal("6"), pi_cents=59_955, balloon_due=None)
    after_first = 10_000_000 - (59_955 - 50_000)
    assert balance == after_first - (120_000 - cents(after_first * 12 / 1200))


# --- The tape ---------------------------------------------------------------------------------------------

OLD_HEADER = ",".join(TAPE_COLUMNS)
BASE = "L{n},Ada,1 Main St,residential,400000,300000.00,,6.5,{term},2026-02-01,,0.25,250.00,false"
PRODUCT_HEADER = OLD_HEADER + (",product,amortization_months,interest_only_months,arm_index,arm_margin,arm_rounding,"
                               "arm_lookback_days,arm_first_change_months,arm_change_every_months,arm_first_cap,"
                               "arm_periodic_cap,arm_lifetime_cap,arm_floor")


def test_an_old_tape_boards_as_it_did_a_plain_fixed_loan():
    rows, problems = parse_tape(OLD_HEADER + "\n" + BASE.format(n=1, term=12) + "\n")
    assert problems == [] and rows[0].terms == LoanTerms.fixed(12) and rows[0].terms.is_plain
    assert rows[0].payment_pi_cents == cents(-npf.pmt(6.5 / 1200, 12, 30_000_000))


def test_a_tape_with_product_columns_boards_arm_io_and_balloon_loans():
    text = PRODUCT_HEADER + "\n" + "\n".join([
        BASE.format(n=1, term=360) + ",arm,,,SOFR30A,2.75,nearest_eighth,45,60,12,2,1,5,",
        BASE.format(n=2, term=360) + ",fixed,,120,,,,,,,,,,",
        BASE.format(n=3, term=120) + ",fixed,360,,,,,,,,,,,",
        BASE.format(n=4, term=12) + ",,,,,,,,,,,,,",
    ]) + "\n"
    rows, problems = parse_tape(text)
    assert problems == []
    arm, io, balloon, plain = rows
    assert arm.terms.arm == ARM_5_1 and arm.payment_pi_cents == cents(-npf.pmt(6.5 / 1200, 360, 30_000_000))
    assert io.terms.interest_only_months == 120 and io.payment_pi_cents == 162_500
    assert balloon.terms.is_balloon and balloon.payment_pi_cents == cents(-npf.pmt(6.5 / 1200, 360, 30_000_000))
    assert plain.terms.is_plain


@pytest.mark.parametrize("cells, why", [
    (",arm,,,LIBOR,2.75,,,60,12,2,1,5,", "index 'LIBOR' is not one we publish"),
    (",arm,,,SOFR30A,2.75,,,60,12,-2,1,5,", "arm_first_cap '-2' must be a percentage of zero or more"),
    (",arm,,,SOFR30A,2.7525,,,60,12,2,1,5,", "arm_margin '2.7525' has more than 3 decimals"),
    (",fixed,,360,,,,,,,,,,", "interest_only_months 360 must be from 0 to below term_months 360"),
    (",fixed,300,,,,,,,,,,,", "amortization_months 300 is below term_months 360"),
    (",arm,,,SOFR30A,2.75,sideways,,60,12,2,1,5,", "rounding 'sideways' must be one of"),
    (",fixed,,,SOFR30A,,,,,,,,,", "arm_ columns are for product arm"),
])
def test_bad_product_rows_are_refused_naming_the_problem(cells, why):
    _, problems = parse_tape(PRODUCT_HEADER + "\n" + BASE.format(n=1, term=360) + cells + "\n")
    assert len(problems) == 1 and why in problems[0].reason


def test_a_product_loan_needs_a_term_from_120_to_480_months_and_an_amount_in_dollars():
    _, problems = parse_tape(PRODUCT_HEADER + "\n" + BASE.format(n=1, term=60) + ",fixed,,12,,,,,,,,,,\n")
    assert "term_months 60 must be from 120 to 480" in problems[0].reason
    bad_amount = BASE.format(n=2, term=360).replace("300000.00", '"599,55"')
    _, problems = parse_tape(PRODUCT_HEADER + "\n" + bad_amount + ",fixed,,12,,,,,,,,,,\n")
    assert problems[0].reason.startswith("original_balance")


# --- The boarding event's versions ------------------------------------------------------------------------


def test_a_version_1_boarding_reads_as_fixed_and_a_version_2_keeps_its_arm_terms_through_json():
    v1 = {"loan_number": "L001", "borrower_name": "Ada", "property_address": "1 Main St", "property_type": "residential",
          "property_value_cents": 12_500_000, "original_balance_cents": 10_000_000,
          "current_balance_cents": 10_000_000, "note_rate": "6", "term_months": 360, "first_payment_date": "2026-02-01",
          "next_due_date": "2026-02-01", "servicing_fee_rate": "0.25", "escrow_monthly_cents": 25_000,
          "autopay": False, "payment_pi_cents": 59_955}
    old = LoanBoarded.from_payload(v1)
    assert old.terms == LoanTerms.fixed(360) and old.balloon_due_date is None
    arm = dataclasses.replace(LoanBoarded.from_payload({**v1, "schema_version": 2, "terms": None}),
                              terms=LoanTerms(product="arm", term_months=360, amortization_months=480, arm=ARM_5_1))
    payload = json.loads(json.dumps(arm.to_payload()))
    assert payload["schema_version"] == 2 and LoanBoarded.from_payload(payload) == arm
    assert arm.balloon_due_date == D("2056-01-01")
