"""A closed period in a few lines: what the command prints and the task returns."""
from __future__ import annotations

from ledger.domain.money import dollars_grouped as money
from remittance.models import PeriodResult


def outcome_summary(result: PeriodResult) -> dict:
    """The period's headline figures as plain values (cents)."""
    f = result.period_closed
    return {
        "trust": f.trust, "period": f.period, "payment_date": f.payment_date.isoformat(),
        "interest_cents": f.interest_available_cents, "principal_cents": f.principal_available_cents,
        "realized_loss_cents": f.realized_loss_cents,
        "servicing_fee_cents": f.fee_paid_cents, "issuer_spread_cents": f.spread_paid_cents,
        "paid_to_holders_cents": f.paid_to_holders_cents, "holder_payments": f.holder_payments,
        "excess_cents": f.excess_cents, "retained_cents": f.retained_cents,
        "prior_period_cents": f.prior_period_cents, "pool_factor": f.pool_factor,
    }


def summary_lines(result: PeriodResult) -> list[str]:
    """The close's summary for people: collections, deductions, each class, and the reconciliation."""
    f = result.period_closed
    lines = [
        f"{f.trust} {f.period} closed: record date {f.record_date.isoformat()}, paid {f.payment_date.isoformat()}",
        f"  interest {money(f.interest_available_cents)}  principal {money(f.principal_available_cents)}"
        f"  loss {money(f.realized_loss_cents)}  prior-period items {money(f.prior_period_cents)}",
        f"  servicing fee {money(f.fee_paid_cents)}  issuer spread {money(f.spread_paid_cents)}"
        f"  excess {money(f.excess_cents)}",
    ]
    if f.returns_carried_in_cents or f.returns_outstanding_cents:
        lines.append(f"  returned payments recovered {money(f.returns_recovered_cents)}"
                     f" (carried in {money(f.returns_carried_in_cents)}),"
                     f" carried to the next close {money(f.returns_outstanding_cents)}")
    for c in f.classes:
        lines.append(
            f"  class {c.class_name:<6} interest {money(c.interest_paid_cents):>12} of {money(c.interest_due_cents)}"
            f"  principal {money(c.principal_paid_cents):>12}  loss {money(c.loss_written_off_cents)}"
            f"  balance {money(c.balance_end_cents)}  factor {c.factor}")
    r = f.reconciliation
    lines.append(f"  paid to {f.holder_payments} holders {money(f.paid_to_holders_cents)}; "
                 f"reconciled: in {money(r.cash_in_cents)} = out {money(r.out_cents)}")
    return lines
