"""verify_ledger re-derives the money, not only the hashes: every defect forced into a real book is named.

A small book is built through the services (ten loans boarded, the seed's
trust formed, February paid and closed) and verifies clean. Then one defect
at a time is forced in as a superuser would (raw SQL on the read models, or an
event appended through the ledger past the servicing service, so its hash
chain is valid), or made through the services where they allow it (the
independent trial's cases), and verify() must report a problem naming the
first bad fact.
"""
from datetime import date

import pytest
from django.db import connection

from ledger.models import Event
from ledger.domain.records import NewEvent, PostingLine
from ledger.services import append
from ledger.verification import verify
from remittance.models import ClassPeriod, PeriodResult
from servicing.domain import accounts
from servicing.models import CollectionLine, LoanPosition, loan_stream
from servicing.services.payments import payment_post
from servicing.verification import loan_money_rederived
from remittance.verification import classes_within_pool, closed_periods_rederived, every_cent_in_one_period
from tests.actors import TESTS
from tests.integration.remittance.months import close, pay_everyone, seed_trust
from tests.integration.trusts.deals import TRUST, form, seed_deal
from trusts.services.pool import pool_loan_remove
from trusts.verification import cutoff_balances_hold

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(loans):
    """The seed's trust with February paid by every borrower and closed."""
    seed_trust()
    pay_everyone("2026-02")
    close("2026-02")
    report = verify()
    assert report.ok, report.problems[:3]
    assert "loan positions re-derived from their facts" in report.checks_run
    assert "every closed period re-derived from the log" in report.checks_run


def superuser(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def rules_as_before(monkeypatch):
    """The services as the independent trial found them, before the date rules: no registered dated-fact
    rule (closed periods, cut-offs, removals), and forming blind to a loan's last removal. The books they
    make are the defects the verifier must name however they got in (a superuser, an old release)."""
    from ledger import business_time
    from trusts.services import forming

    monkeypatch.setattr(business_time, "_rules", [])
    monkeypatch.setattr(forming, "_last_removals", lambda numbers: {})
    if connection.vendor == "postgresql":
        superuser("ALTER TABLE trusts_poolloan DROP CONSTRAINT IF EXISTS pool_loan_membership_no_overlap")


def problems_naming(*words: str) -> list[str]:
    return [p for p in verify().problems if all(w in p for w in words)]


def transfer_position() -> int:
    return Event.objects.get(stream=f"trust:{TRUST}", event_type="PoolLoansTransferred").position


def feb_result() -> PeriodResult:
    return PeriodResult.objects.get(trust__code=TRUST, period="2026-02")


# --- 1. Loan positions --------------------------------------------------------------------------------


def test_a_position_row_altered_is_named_with_its_loan(book):
    superuser("UPDATE servicing_loanposition SET escrow_balance_cents = escrow_balance_cents + 1 "
              "WHERE loan_id = 'L003'")
    found = loan_money_rederived()
    assert found and found[0].startswith("loan L003: its LoanPosition row says escrow_balance_cents 25001")
    assert problems_naming("loan L003", "escrow_balance_cents")


def test_a_forged_payment_with_a_wrong_split_and_a_valid_chain_is_named(book):
    position = LoanPosition.objects.get(loan_id="L002")
    amount, escrow = 84_955, 25_000
    principal = amount - escrow  # the forger skips the interest and takes it all as principal
    after = {"principal_balance_cents": position.principal_balance_cents - principal,
             "next_due_date": "2026-04-01", "escrow_balance_cents": position.escrow_balance_cents + escrow,
             "last_payment_date": "2026-03-02"}
    forged = NewEvent("PaymentPosted", {
        "loan_number": "L002", "reference": "FORGED-1", "amount_cents": amount, "received_on": "2026-03-02",
        "principal_only": False,
        "application": {"interest_cents": 0, "principal_cents": principal, "curtailment_cents": 0,
                        "escrow_cents": escrow, "escrow_advance_repaid_cents": 0, "escrow_deposit_cents": escrow,
                        "late_charges_cents": 0, "fees_cents": 0, "to_suspense_cents": 0, "from_suspense_cents": 0,
                        "installments_paid": 1, "due_dates_paid": ["2026-03-01"]},
        "collections": {"interest_cents": 0, "scheduled_principal_cents": principal, "curtailment_cents": 0,
                        "payoff_principal_cents": 0, "liquidation_principal_cents": 0, "realized_loss_cents": 0},
        "position_after": after,
    }, date(2026, 3, 2), (PostingLine(accounts.CUSTODIAL_CASH, amount),
                          PostingLine(accounts.principal("L002"), -principal),
                          PostingLine(accounts.escrow("L002"), -escrow)))
    event = append(stream=loan_stream("L002"), expected_version=None, events=[forged], acting_user=TESTS)[0]
    report = verify()
    assert not report.ok
    mine = [p for p in report.problems if p.startswith(f"event #{event.position} ")]
    assert mine and "its application says interest_cents 0; applying 84955 cents" in mine[0], report.problems


def test_a_collection_line_altered_is_named_with_its_period(book):
    line = CollectionLine.objects.filter(loan_id="L004").order_by("event_position").first()
    superuser("UPDATE servicing_collectionline SET curtailment_cents = 5000 WHERE event_position = %s",
              [line.event_position])
    found = loan_money_rederived()
    assert found and found[0].startswith(f"collection line #{line.event_position} of loan L004 holds ")
    # The period that closed on it no longer re-derives from the lines either.
    found = closed_periods_rederived()
    assert found and found[0].startswith(f"{TRUST} 2026-02 (PeriodClosed #{feb_result().event_position}): "
                                         "its PeriodClosed says collected.curtailment 0; the log re-derives 5000")


# --- 2. Closed periods ---------------------------------------------------------------------------------


def test_a_period_result_figure_altered_is_named(book):
    superuser("UPDATE remittance_periodresult SET servicing_fee_cents = servicing_fee_cents - 1")
    found = closed_periods_rederived()
    assert found and "its PeriodResult row says servicing_fee_cents 49999; the log re-derives 50000" in found[0]


def test_a_class_period_figure_altered_is_named(book):
    superuser("UPDATE remittance_classperiod SET principal_paid_cents = principal_paid_cents + 7")
    found = closed_periods_rederived()
    assert found and "class A's ClassPeriod row says principal_paid_cents 99557; the log re-derives 99550" in found[0]


def test_a_distribution_altered_is_named_with_its_holder(book):
    superuser("UPDATE remittance_distribution SET interest_cents = interest_cents + 1 "
              "WHERE holder_id = (SELECT id FROM trusts_holder WHERE code = 'INV-03')")
    found = closed_periods_rederived()
    assert found and "class A holder INV-03: its Distribution row" in found[0]


# --- 3. Every cent in one period of one trust --------------------------------------------------------------


def test_a_second_membership_makes_a_payment_count_in_two_trusts(book, rules_as_before):
    form(seed_deal(code="XYZ-2026-2", loans=["L011"], cutoff_date="2026-01-15", closing_date="2026-01-15",
                   classes=[{"name": "A", "face": "100000.00", "coupon": "net-wac", "principal": "pro-rata",
                             "denomination": "1000.00"}],
                   holders=[{"code": "INV-01", "name": "Investor 1", "class": "A", "face": "100000.00"}]))
    superuser("INSERT INTO trusts_poolloan (trust_id, loan_id, cutoff_balance_cents, price_cents, transferred_on, "
              "removed_on, removal_reason) SELECT id, 'L001', 10000000, 10000000, '2026-01-15', '2026-03-31', '' "
              "FROM trusts_trust "
              "WHERE code = 'XYZ-2026-2'")
    line = CollectionLine.objects.filter(loan_id="L001").order_by("event_position").first()
    found = every_cent_in_one_period()
    assert found and found[0].startswith(f"collection line #{line.event_position} of loan L001 dated 2026-02-01 "
                                         f"is in the pools of {TRUST}")


def test_a_removal_dated_in_a_closed_period_is_named_with_the_line_it_pays_again(book, rules_as_before):
    pool_loan_remove(trust_code=TRUST, loan_number="L010", removed_on=date(2026, 1, 20), kind="repurchase",
                     reason="breach found late", acting_user=TESTS)
    line = CollectionLine.objects.filter(loan_id="L010").order_by("event_position").first()
    found = every_cent_in_one_period()
    assert found and found[0].startswith(f"collection line #{line.event_position} of loan L010 dated 2026-02-01 "
                                         f"was counted by {TRUST}'s closes up to 2026-02")
    assert "its proceeds pay that principal again" in found[0]


def test_one_payment_remitted_by_two_trusts_through_the_services(book, rules_as_before):
    # L001 leaves the first trust on Feb 10, after its Feb 1 payment was counted there, and joins a
    # second trust whose cut-off (Jan 20) is before that payment: both trusts own it.
    pool_loan_remove(trust_code=TRUST, loan_number="L001", removed_on=date(2026, 2, 10), kind="repurchase",
                     reason="breach", acting_user=TESTS)
    form(seed_deal(code="XYZ-2026-3", loans=["L001"], cutoff_date="2026-01-20", closing_date="2026-01-20",
                   classes=[{"name": "A", "face": "100000.00", "coupon": "net-wac", "principal": "pro-rata",
                             "denomination": "1000.00"}],
                   holders=[{"code": "INV-01", "name": "Investor 1", "class": "A", "face": "100000.00"}]))
    line = CollectionLine.objects.filter(loan_id="L001").order_by("event_position").first()
    assert problems_naming(f"collection line #{line.event_position} of loan L001", "XYZ-2026-3", "both trusts")


def test_a_curtailment_before_the_cutoff_recorded_later_is_never_remitted(book, rules_as_before):
    event = payment_post(loan_number="L005", amount_cents=1_000_000, received_on=date(2026, 1, 15),
                         reference="LATE-CURTAILMENT", principal_only=True, acting_user=TESTS).event
    pay_everyone("2026-03")
    close("2026-03")
    found = every_cent_in_one_period()
    assert found and found[0].startswith(f"collection line #{event.position} of loan L005 dated 2026-01-15, on or "
                                         f"before {TRUST}'s cut-off, was recorded after the pool was transferred")
    assert cutoff_balances_hold() == [
        f"event #{event.position} (loan L005, dated 2026-01-15) moved the loan's principal on or before {TRUST}'s "
        f"cut-off 2026-01-15 after the pool was transferred (event #{transfer_position()}): the trust bought it at "
        "10000000 cents, the ledger now holds 9000000 at the cut-off"]
    # The classes still owe the curtailed principal the pool no longer holds.
    above = classes_within_pool()
    assert above and above[0].startswith(f"{TRUST} 2026-03 (PeriodClosed #")
    assert "more than the pool's end balance" in above[0]


def test_a_window_that_does_not_follow_the_previous_close_is_named(book):
    pay_everyone("2026-03")
    close("2026-03")
    march = PeriodResult.objects.get(trust__code=TRUST, period="2026-03")
    feb = feb_result()
    figures = {**feb.figures, "window": {**feb.figures["window"], "through_position": feb.through_position - 3}}
    PeriodResult.objects.filter(pk=feb.pk).update(figures=figures)  # the read model, as a superuser would
    found = every_cent_in_one_period()
    assert found and found[0].startswith(f"{TRUST} 2026-03 (PeriodClosed #{march.event_position}): its window "
                                         "starts after")


# --- 4. Classes within the pool ------------------------------------------------------------------------


def test_a_class_balance_above_the_pool_is_named(book):
    superuser("UPDATE remittance_classperiod SET balance_end_cents = balance_end_cents + 100")
    found = classes_within_pool()
    result = feb_result()
    assert found == [f"{TRUST} 2026-02 (PeriodClosed #{result.event_position}): its classes owe "
                     f"{result.pool_balance_end_cents + 100} cents after the close, more than the pool's end balance "
                     f"of {result.pool_balance_end_cents}, on a deal that is not over-collateralised"]


def test_the_class_and_pool_check_is_only_for_deals_not_over_collateralised(book):
    superuser("UPDATE trusts_trust SET overcollateralized = TRUE")
    superuser("UPDATE remittance_classperiod SET balance_end_cents = balance_end_cents + 100")
    assert classes_within_pool() == []
    assert ClassPeriod.objects.count() == 1


def test_a_forged_snapshot_with_a_valid_chain_is_named_before_the_row_it_made(book):
    position = LoanPosition.objects.get(loan_id="L006")
    after = {"principal_balance_cents": position.principal_balance_cents - 1_000}  # principal gone, no cash
    event = append(stream=loan_stream("L006"), expected_version=None, events=[NewEvent(
        "EscrowItemAdded", {"kind": "hazard_insurance", "payee": "Insurer", "annual_amount_cents": 1200,
                            "due_dates": ["2026-06-01"], "collections": {}, "position_after": after},
        date(2026, 3, 2))], acting_user=TESTS)[0]
    found = loan_money_rederived()
    assert found == [f"event #{event.position} (loan:L006 v3 EscrowItemAdded): its position_after says "
                     f"principal_balance_cents {position.principal_balance_cents - 1_000}, its facts re-derive "
                     f"{position.principal_balance_cents}"]
    # The older check sees only the row the snapshot made; this one names the event that made it.
    assert any(p.startswith(f"event #{event.position} (loan:L006") for p in verify().problems)
