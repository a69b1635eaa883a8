"""The pure rules of bankruptcy cases and the automatic stay (servicing.domain.bankruptcy)."""
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicing.domain.bankruptcy import BankruptcyRefused, Cases

FILED = date(2026, 3, 1)


def one_case(chapter=13) -> Cases:
    return Cases().filed(case_number="26-1", chapter=chapter, court="D. Springfield", filed_on=FILED)


def test_the_stay_runs_from_the_filing_to_the_day_before_relief_or_the_end():
    cases = one_case()
    assert cases.stay_on(FILED - timedelta(days=1)) is None and cases.stay_on(FILED).case_number == "26-1"
    relieved = cases.relief_granted(case_number="26-1", on=date(2026, 5, 1))
    assert relieved.stay_on(date(2026, 4, 30)) is not None and relieved.stay_on(date(2026, 5, 1)) is None
    assert relieved.open_case is not None  # relief lifts the stay, the case stays open
    ended = cases.ended(case_number="26-1", outcome="dismissed", on=date(2026, 6, 1))
    assert ended.open_case is None and ended.stay_on(date(2026, 6, 1)) is None
    assert ended.stay_on(date(2026, 5, 31)).outcome == "dismissed"  # the history keeps the stay it had


@pytest.mark.parametrize(("step", "message"), [
    (lambda c: c.filed(case_number="26-2", chapter=7, court="x", filed_on=date(2026, 4, 1)), "is still open"),
    (lambda c: c.ended(case_number="26-1", outcome="discharged", on=date(2026, 2, 1)),
     "cannot discharge on 2026-02-01: .* was filed on 2026-03-01, after it"),
    (lambda c: c.plan_confirmed(case_number="26-9", on=date(2026, 4, 1)), "the open case is bankruptcy case 26-1"),
    (lambda c: c.relief_granted(case_number="26-1", on=date(2026, 4, 1))
     .relief_granted(case_number="26-1", on=date(2026, 5, 1)), "was granted on 2026-04-01 already"),
    (lambda c: c.ended(case_number="26-1", outcome="closed", on=date(2026, 4, 1)), "discharged or dismissed"),
])
def test_steps_the_cases_do_not_allow_are_refused(step, message):
    with pytest.raises(BankruptcyRefused, match=message):
        step(one_case())


def test_a_chapter_7_case_has_no_plan_and_a_chapter_must_be_7_or_13():
    with pytest.raises(BankruptcyRefused, match="only chapter 13 has a plan"):
        one_case(chapter=7).plan_confirmed(case_number="26-1", on=date(2026, 4, 1))
    with pytest.raises(BankruptcyRefused, match="chapter 11 is not one we service"):
        one_case(chapter=11)


STEP = st.tuples(st.sampled_from(["file", "plan", "relief", "discharge", "dismiss"]), st.integers(0, 400),
                 st.sampled_from([7, 13]))


@settings(max_examples=200, deadline=None)
@given(st.lists(STEP, max_size=12))
def test_whatever_is_asked_the_cases_stay_consistent(steps):
    """At most one open case; cases never overlap; the stay holds on a day only inside its case's window."""
    cases, n = Cases(), 0
    for kind, offset, chapter in steps:
        day = FILED + timedelta(days=offset)
        open_case = cases.open_case
        number = open_case.case_number if open_case else "none"
        try:
            if kind == "file":
                n += 1
                cases = cases.filed(case_number=f"c{n}", chapter=chapter, court="D", filed_on=day)
            elif kind == "plan":
                cases = cases.plan_confirmed(case_number=number, on=day)
            elif kind == "relief":
                cases = cases.relief_granted(case_number=number, on=day)
            else:
                cases = cases.ended(case_number=number, outcome=kind + ("d" if kind == "discharge" else "ed"), on=day)
        except BankruptcyRefused:
            continue
    assert sum(1 for c in cases.cases if c.is_open) <= 1
    for earlier, later in zip(cases.cases, cases.cases[1:]):
        assert earlier.ended_on is not None and earlier.ended_on <= later.filed_on
    for offset in range(-1, 402, 7):
        day = FILED + timedelta(days=offset)
        case = cases.stay_on(day)
        for c in cases.cases:
            inside = c.filed_on <= day and all(day < d for d in (c.relief_granted_on, c.ended_on) if d)
            assert (case is c) == inside
        if case is not None:
            assert case.chapter in (7, 13) and (case.plan_confirmed_on is None or case.chapter == 13)


def test_the_fold_sets_the_open_case_and_its_end_clears_it():
    from types import SimpleNamespace

    from servicing import events as ev

    position = SimpleNamespace(bankruptcy_chapter=None, bankruptcy_filed_on=None, status="active")
    ev.BankruptcyFiled(case_number="26-1", chapter=7, court="D", filed_on=FILED).fold_into(position)
    assert (position.bankruptcy_chapter, position.bankruptcy_filed_on) == (7, FILED)
    ev.ReliefFromStayGranted(case_number="26-1", on=date(2026, 4, 1)).fold_into(position)
    assert position.bankruptcy_chapter == 7  # relief lifts the stay; the case is still open
    ev.BankruptcyDischarged(case_number="26-1", on=date(2026, 6, 1)).fold_into(position)
    assert (position.bankruptcy_chapter, position.bankruptcy_filed_on, position.status) == (None, None, "active")


def test_the_states_are_read_from_the_position_with_the_bucket_beside():
    from types import SimpleNamespace

    from servicing.domain.default_states import default_servicing

    def states(**fields):
        base = {"status": "active", "loss_mitigation": "", "bankruptcy_chapter": None, "bankruptcy_filed_on": None,
                "delinquency_bucket": "current"}
        return default_servicing(SimpleNamespace(**{**base, **fields}))

    assert states().names == () and states().describe() == "none (MBA current)"
    assert states(loss_mitigation="trial", delinquency_bucket="60").describe() == "in a trial modification (MBA 60)"
    both = states(status="foreclosure", bankruptcy_chapter=13, bankruptcy_filed_on=FILED, delinquency_bucket="90+")
    assert both.names == ("bankruptcy_13", "foreclosure") and both.delinquency_bucket == "90+"
    assert states(status="reo", loss_mitigation="modified").names == ("modified", "reo")
