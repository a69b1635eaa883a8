"""What a servicer owes its borrowers in writing: the periodic statement, the annual escrow account statement
and the year's mortgage interest statement (form 1098). Pure: plain values in, the statement's figures out.

Periodic statement (Regulation Z 1026.41(d)), for a billing cycle (a calendar month):
- amount due: the next installment's due date, the regular payment (principal and interest of that
  installment, escrow) plus everything past due on the cycle's last day (installments unpaid, late charges
  and fees owed, less what waits in suspense); the late charge and the day from which it is imposed;
- past payments: what the cycle's payments, and the year's, went to (principal, interest, escrow, fees and
  late charges, suspense), from the postings of the payment events themselves;
- the cycle's transactions, the balances and rate, and money held in suspense (1026.41(d)(3)-(4));
- delinquency information once 45 days late (1026.41(d)(8)): since when, the cycle-end arrears of each of the
  last six cycles, the risks (late charges, foreclosure), and any loss mitigation, foreclosure or bankruptcy;
- a borrower in bankruptcy gets the statement marked for information only, not an attempt to collect
  (1026.41(f)).
Form 1098 (one per loan and calendar year): box 1 mortgage interest received from the borrower (net of
returned payments), box 2 principal outstanding on 1 January (or on the day the loan was boarded, if later),
box 5 mortgage insurance premiums paid from escrow; reportable at $600 of interest or more.
Annual escrow account statement (Regulation X 1024.17(i)): over the computation year, deposits and
disbursements by item, the balance at the start and the end, and the analysis's new monthly escrow with
its shortage or surplus.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from ledger.domain.money import dollars, dollars_grouped

FORM_1098_THRESHOLD_CENTS = 60_000  # IRS: a 1098 is filed for $600 or more of mortgage interest
DELINQUENCY_NOTICE_DAYS = 45  # 1026.41(d)(8): delinquency information once 45 days late
HISTORY_CYCLES = 6  # 1026.41(d)(8)(iv): the account history of the last six months


@dataclass(frozen=True, slots=True)
class PaymentBreakdown:
    """Where money received went, in cents (a returned payment counts negative)."""

    principal_cents: int = 0
    interest_cents: int = 0
    escrow_cents: int = 0
    fees_cents: int = 0  # fees and late charges paid
    suspense_cents: int = 0  # net change of the money held unapplied

    @property
    def total_cents(self) -> int:
        return self.principal_cents + self.interest_cents + self.escrow_cents + self.fees_cents + self.suspense_cents

    def plus(self, other: PaymentBreakdown) -> PaymentBreakdown:
        return PaymentBreakdown(*(a + b for a, b in zip(self.parts(), other.parts())))

    def parts(self) -> tuple[int, int, int, int, int]:
        return (self.principal_cents, self.interest_cents, self.escrow_cents, self.fees_cents, self.suspense_cents)


@dataclass(frozen=True, slots=True)
class Transaction:
    """One line of the cycle's activity: its date, what it was, and its amount (money received positive)."""

    on: date
    description: str
    amount_cents: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Standing:
    """A loan's figures on a day, as its position held them."""

    principal_balance_cents: int
    deferred_principal_cents: int
    next_due_date: date
    payment_pi_cents: int
    escrow_monthly_cents: int
    suspense_cents: int
    late_charges_due_cents: int
    fees_due_cents: int
    status: str
    loss_mitigation: str
    bankruptcy_chapter: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class AmountDue:
    due_date: date
    principal_cents: int
    interest_cents: int
    escrow_cents: int
    installments_past_due: int
    past_due_cents: int  # installments unpaid by the cycle's end, late charges and fees owed, less suspense
    total_cents: int
    late_charge_cents: int
    late_charge_from: date


@dataclass(frozen=True, slots=True, kw_only=True)
class Delinquency:
    days: int
    since: date
    history: tuple[tuple[str, int], ...]  # (cycle YYYY-MM, arrears at its end in cents), oldest first
    notices: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class PeriodicStatement:
    loan_number: str
    borrower_name: str
    property_address: str
    cycle: str
    statement_date: date
    amount_due: AmountDue | None  # None once the loan is paid off or liquidated
    paid_this_cycle: PaymentBreakdown
    paid_year_to_date: PaymentBreakdown
    transactions: tuple[Transaction, ...]
    standing: Standing
    interest_rate_percent: str
    delinquency: Delinquency | None
    bankruptcy_notice: bool


def amount_due(standing: Standing, *, interest_cents: int, late_charge_cents: int,
               grace_days: int, installments_unpaid: int) -> AmountDue:
    """What the borrower owes with the next installment: that installment, plus the arrears on the cycle's end.

    `installments_unpaid`: installments due on or before the cycle's end and not paid (the caller counts
    them, none after maturity); `interest_cents`: the next installment's interest (its scheduled split).
    """
    principal = min(max(standing.payment_pi_cents - interest_cents, 0), standing.principal_balance_cents)
    installment = principal + interest_cents + standing.escrow_monthly_cents
    arrears = (installments_unpaid * (standing.payment_pi_cents + standing.escrow_monthly_cents)
               + standing.late_charges_due_cents + standing.fees_due_cents)
    past_due = max(arrears - standing.suspense_cents, 0)
    # The installment due next, after those past due: the one the statement asks for.
    due = standing.next_due_date + relativedelta(months=installments_unpaid)
    return AmountDue(due_date=due, principal_cents=principal, interest_cents=interest_cents,
                     escrow_cents=standing.escrow_monthly_cents, installments_past_due=installments_unpaid,
                     past_due_cents=past_due, total_cents=installment + past_due, late_charge_cents=late_charge_cents,
                     late_charge_from=due + timedelta(days=grace_days + 1))


def delinquency(*, days: int, since: date, history: Sequence[tuple[str, int]], standing: Standing) -> Delinquency | None:
    """The delinquency box of the statement, once the loan is 45 days or more behind; None before."""
    if days < DELINQUENCY_NOTICE_DAYS:
        return None
    notices = ["Late charges are imposed on each installment paid after its grace period.",
               "If you do not bring your loan current, we may start foreclosure, and you could lose your home."]
    if standing.loss_mitigation:
        notices.append(f"Your loan is in a loss-mitigation program: {standing.loss_mitigation.replace('_', ' ')}.")
    if standing.status == "foreclosure":
        notices.append("Foreclosure has been started on your loan.")
    if standing.bankruptcy_chapter:
        notices.append(f"Our records show a chapter {standing.bankruptcy_chapter} bankruptcy case.")
    notices.append("Housing counselors approved by HUD can help: call 800-569-4287 or visit www.hud.gov/counseling.")
    return Delinquency(days=days, since=since, history=tuple(history[-HISTORY_CYCLES:]), notices=tuple(notices))


@dataclass(frozen=True, slots=True, kw_only=True)
class Form1098:
    loan_number: str
    year: int
    borrower_name: str
    property_address: str
    interest_received_cents: int  # box 1
    principal_outstanding_cents: int  # box 2
    principal_as_of: date  # 1 January, or the day the loan was boarded if later
    mortgage_insurance_cents: int  # box 5
    reportable: bool


def form_1098(*, loan_number: str, year: int, borrower_name: str, property_address: str, interest_received_cents: int,
              principal_outstanding_cents: int, principal_as_of: date, mortgage_insurance_cents: int) -> Form1098:
    return Form1098(loan_number=loan_number, year=year, borrower_name=borrower_name, property_address=property_address,
                    interest_received_cents=interest_received_cents,
                    principal_outstanding_cents=principal_outstanding_cents, principal_as_of=principal_as_of,
                    mortgage_insurance_cents=mortgage_insurance_cents,
                    reportable=interest_received_cents >= FORM_1098_THRESHOLD_CENTS)


@dataclass(frozen=True, slots=True, kw_only=True)
class EscrowStatement:
    loan_number: str
    year_start: date
    year_end: date
    balance_start_cents: int
    deposits_cents: int
    disbursements: tuple[tuple[str, int], ...]  # (item kind, cents paid from escrow or advanced), by kind
    advanced_cents: int  # paid by the servicer for want of escrow, owed back
    balance_end_cents: int
    new_monthly_escrow_cents: int | None  # from the analysis, None without one
    shortage_cents: int
    surplus_cents: int
    surplus_refund_cents: int

    @property
    def disbursed_cents(self) -> int:
        return sum(cents for _kind, cents in self.disbursements)


# ------------------------------------------------------------------ renderings (JSON-safe values, CSV, text)


def to_json(value: object, key: str = "") -> object:
    """A statement as JSON-safe values: fields ending in `_cents` as dollar strings without the suffix, dates ISO."""
    if hasattr(value, "__dataclass_fields__"):
        return {name.removesuffix("_cents"): to_json(getattr(value, name), name)
                for name in value.__dataclass_fields__} | _totals(value)
    if isinstance(value, (list, tuple)):
        return [to_json(item, key) for item in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int) and key.endswith("_cents"):
        return dollars(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _totals(value: object) -> dict[str, str]:
    # The derived totals a reader expects beside the parts.
    if isinstance(value, PaymentBreakdown):
        return {"total": dollars(value.total_cents)}
    if isinstance(value, EscrowStatement):
        return {"disbursed": dollars(value.disbursed_cents)}
    return {}


def csv_rows(value: object) -> list[tuple[str, str]]:
    """A statement flattened to (item, value) rows: nested fields joined by dots, list entries numbered."""
    rows: list[tuple[str, str]] = []

    def walk(node: object, prefix: str) -> None:
        if isinstance(node, dict):
            for name, child in node.items():
                walk(child, f"{prefix}{name}.")
        elif isinstance(node, list):
            for number, child in enumerate(node, start=1):
                walk(child, f"{prefix}{number}.")
        else:
            rows.append((prefix.rstrip("."), "" if node is None else str(node).lower() if isinstance(node, bool)
                         else str(node)))

    walk(to_json(value), "")
    return rows


def periodic_statement_text(s: PeriodicStatement) -> str:
    """The periodic statement as text for people, in the order Regulation Z 1026.41(d) lists its parts."""
    lines = [f"Mortgage statement {s.cycle} - loan {s.loan_number}", f"{s.borrower_name}, {s.property_address}",
             f"Statement date {s.statement_date}"]
    if s.bankruptcy_notice:
        lines.append("Our records show you are in bankruptcy: this statement is for your information only and is "
                     "not an attempt to collect a debt.")
    if s.amount_due is not None:
        d = s.amount_due
        lines += ["", f"Amount due {dollars_grouped(d.total_cents)} by {d.due_date}",
                  f"  If received after {d.late_charge_from - timedelta(days=1)}, a late charge of "
                  f"{dollars_grouped(d.late_charge_cents)} is imposed.",
                  f"  Principal {dollars_grouped(d.principal_cents)}, interest {dollars_grouped(d.interest_cents)}, "
                  f"escrow {dollars_grouped(d.escrow_cents)}, past due {dollars_grouped(d.past_due_cents)} "
                  f"({d.installments_past_due} installment(s))"]
    else:
        lines += ["", "Nothing is due: the loan is closed."]
    for title, paid in (("Paid this cycle", s.paid_this_cycle), ("Paid this year", s.paid_year_to_date)):
        lines.append(f"{title}: principal {dollars_grouped(paid.principal_cents)}, interest "
                     f"{dollars_grouped(paid.interest_cents)}, escrow {dollars_grouped(paid.escrow_cents)}, fees "
                     f"{dollars_grouped(paid.fees_cents)}, unapplied {dollars_grouped(paid.suspense_cents)}; "
                     f"total {dollars_grouped(paid.total_cents)}")
    lines += ["", "Transactions:"]
    lines += [f"  {t.on}  {t.description:<60} {dollars_grouped(t.amount_cents):>14}" for t in s.transactions] or [
        "  none"]
    st = s.standing
    lines += ["", f"Outstanding principal {dollars_grouped(st.principal_balance_cents)}; deferred (no interest) "
                  f"{dollars_grouped(st.deferred_principal_cents)}; interest rate {s.interest_rate_percent}%; "
                  f"unapplied funds {dollars_grouped(st.suspense_cents)}"]
    if s.delinquency is not None:
        q = s.delinquency
        lines += ["", f"Delinquency notice: you are {q.days} days late; your loan has been delinquent since {q.since}."]
        lines += [f"  {cycle}: {dollars_grouped(cents)} past due" for cycle, cents in q.history]
        lines += [f"  {notice}" for notice in q.notices]
    return "\n".join(lines) + "\n"
