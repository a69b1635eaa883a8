"""The reconciliation of a period, in one place: pure, to the cent.

A period accounts for every cent when both sides of the identity agree:

    cash collected + advanced - recovered - returns carried in + returns carried out
        = cash distributed (the interest and principal the waterfall had)
    cash distributed + reserve draw + reserve released
        = servicing fee paid + issuer spread paid + trustee fee paid + paid to holders + excess + retained
          + reserve deposit + reserve released (to the residual holder)

The reserve account (a structured deal's, trusts.domain.deal_structure) is the trust's cash held
apart: a draw brings it into the waterfall (paying class interest), a deposit takes interest left
into it, and its release, once every class is retired, goes from it to the residual holder (not
part of `excess_cents`). A standard deal has no trustee fee and no reserve: those terms are zero.

"Cash collected" is every collected kind except the realized loss, which is
not cash (`cash_collected_cents`, the one home of that rule). Returned
payments a close could not recover are carried out of it and recovered by
the next close first, so they move cash between periods, not out of it.

`reconcile` is used by the close before it records anything
(remittance.domain.close_figures), by the close's own record of the identity
(PeriodClosed.reconciliation), by the remittance report, and by the checks
`verify_ledger` runs (remittance.period_reconciliation; remittance.verification re-derives
the whole close, this included). No module imports Django here.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from remittance.events import CloseReconciliation, PeriodClosed

REALIZED_LOSS = "realized_loss"  # the collected kind that is a loss, not cash


def is_cash(kind: str) -> bool:
    """Whether a collected kind ("interest", or its column "interest_cents") is cash: all but the realized loss."""
    return kind.removesuffix("_cents") != REALIZED_LOSS


def cash_collected_cents(collected: Mapping[str, int]) -> int:
    """Every collected kind except the realized loss: the cash a period's collections brought."""
    return sum(cents for kind, cents in collected.items() if is_cash(kind))


@dataclass(frozen=True, slots=True, kw_only=True)
class Reconciliation:
    """Both sides of a period's identity, and what does not agree (`problems`, empty when it reconciles)."""

    cash_collected_cents: int
    advanced_cents: int
    recovered_cents: int
    returns_carried_in_cents: int
    returns_carried_out_cents: int
    distributed_cents: int
    fee_paid_cents: int
    spread_paid_cents: int
    paid_to_holders_cents: int
    excess_cents: int
    retained_cents: int
    trustee_fee_paid_cents: int = 0
    reserve_draw_cents: int = 0
    reserve_deposit_cents: int = 0
    reserve_released_cents: int = 0

    @property
    def cash_in_cents(self) -> int:
        """What the period brought: collections plus advances less recoveries, net of returns carried."""
        return (self.cash_collected_cents + self.advanced_cents - self.recovered_cents
                - self.returns_carried_in_cents + self.returns_carried_out_cents)

    @property
    def from_reserve_cents(self) -> int:
        """What the reserve account paid out: its draw (class interest) and its release (to the residual)."""
        return self.reserve_draw_cents + self.reserve_released_cents

    @property
    def out_cents(self) -> int:
        """Where it went: fee + spread + trustee fee + holders + excess + retained + into and out of the reserve."""
        return (self.fee_paid_cents + self.spread_paid_cents + self.trustee_fee_paid_cents
                + self.paid_to_holders_cents + self.excess_cents + self.retained_cents
                + self.reserve_deposit_cents + self.reserve_released_cents)

    @property
    def difference_cents(self) -> int:
        return self.cash_in_cents + self.from_reserve_cents - self.out_cents

    @property
    def problems(self) -> tuple[str, ...]:
        found = []
        if self.distributed_cents + self.from_reserve_cents != self.out_cents:
            found.append(f"cash distributed {self.distributed_cents} + from the reserve {self.from_reserve_cents} "
                         f"!= fee + spread + trustee fee + paid to holders + excess + retained + reserve deposit "
                         f"+ reserve released {self.out_cents}")
        if self.cash_in_cents != self.distributed_cents:
            found.append(f"collections + advances - recoveries - returns carried in + returns carried out "
                         f"{self.cash_in_cents} != cash distributed {self.distributed_cents}")
        return tuple(found)

    @property
    def reconciled(self) -> bool:
        return not self.problems

    def recorded(self) -> CloseReconciliation:
        """The identity as PeriodClosed records it: the cash distributed (with what the reserve paid out) and
        where it went."""
        return CloseReconciliation(cash_in_cents=self.distributed_cents + self.from_reserve_cents,
                                   out_cents=self.out_cents)


def reconcile(*, collected: Mapping[str, int], advanced_cents: int, recovered_cents: int,
              returns_carried_in_cents: int, returns_carried_out_cents: int, distributed_cents: int,
              fee_paid_cents: int, spread_paid_cents: int, paid_to_holders_cents: int, excess_cents: int,
              retained_cents: int, trustee_fee_paid_cents: int = 0, reserve_draw_cents: int = 0,
              reserve_deposit_cents: int = 0, reserve_released_cents: int = 0) -> Reconciliation:
    """A period's reconciliation: collected (by kind) and what came in and went out, in cents."""
    return Reconciliation(
        cash_collected_cents=cash_collected_cents(collected), advanced_cents=advanced_cents,
        recovered_cents=recovered_cents, returns_carried_in_cents=returns_carried_in_cents,
        returns_carried_out_cents=returns_carried_out_cents, distributed_cents=distributed_cents,
        fee_paid_cents=fee_paid_cents, spread_paid_cents=spread_paid_cents,
        paid_to_holders_cents=paid_to_holders_cents, excess_cents=excess_cents, retained_cents=retained_cents,
        trustee_fee_paid_cents=trustee_fee_paid_cents, reserve_draw_cents=reserve_draw_cents,
        reserve_deposit_cents=reserve_deposit_cents, reserve_released_cents=reserve_released_cents,
    )


def closed_period_reconciliation(closed: PeriodClosed, *, paid_to_holders_cents: int | None = None) -> Reconciliation:
    """The reconciliation of a recorded close; paid_to_holders_cents: the holders' own distributions, when
    the caller counts them (the report does), else what the close says it paid."""
    return reconcile(
        collected=closed.collected, advanced_cents=closed.advanced_cents, recovered_cents=closed.recovered_cents,
        returns_carried_in_cents=closed.returns_carried_in_cents,
        returns_carried_out_cents=closed.returns_outstanding_cents,
        distributed_cents=closed.interest_available_cents + closed.principal_available_cents,
        fee_paid_cents=closed.fee_paid_cents, spread_paid_cents=closed.spread_paid_cents,
        paid_to_holders_cents=(closed.paid_to_holders_cents if paid_to_holders_cents is None
                               else paid_to_holders_cents),
        excess_cents=closed.excess_cents, retained_cents=closed.retained_cents,
        trustee_fee_paid_cents=closed.trustee_fee_paid_cents, reserve_draw_cents=closed.reserve_draw_cents,
        reserve_deposit_cents=closed.reserve_deposit_cents, reserve_released_cents=closed.reserve_released_cents,
    )
