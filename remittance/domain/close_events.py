"""The events a close appends, with their postings: pure, from the close's figures.

On the trust's remittance stream (`remittance:CODE`): CollectionsRemitted
(the servicer's custodial cash into the trust's cash, and any advances or
recoveries), ServicingFeePaid, IssuerSpreadPaid, TrusteeFeePaid (a deal
with a trustee fee: trust cash to `trustee:CODE:fees`), ReserveAccountMoved
(a deal with a reserve account: its initial deposit from
`issuer:CODE:reserve_funding` at the first close, its draws into and
deposits from the trust's cash, its release to `issuer:CODE:residual`, all
through `trust:CODE:reserve`), one ClassDistributed per class (an accrual
class's accrued interest is no cash: its balance grows, nothing is posted),
ExcessPaid, and last PeriodClosed with every figure the period closed on. On each holder's own stream (`holder:CODE`): DistributionPaid.
Cash runs trust cash -> class accounts -> holder cash, so a class's
accounts come back to zero once its holders are paid. The events are the
typed classes of `remittance.events`; `period_closed` is the PeriodClosed a
close records, and the verifier builds it again from the log to compare.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ledger.domain.records import NewEvent, PostingLine, StreamAppend
from remittance.domain.close_figures import CloseFigures, HolderPayment
from remittance.domain.credit_support import TriggerStatus
from remittance.domain.waterfall import ClassResult
from remittance.events import (
    ClassDistributed, ClassLine, CloseWindow, CollectionsRemitted, DistributionPaid, ExcessPaid, IssuerSpreadPaid,
    PeriodClosed, ReserveAccountMoved, ServicingFeePaid, TriggerTest, TrusteeFeePaid,
)
from servicing.domain.accounts import CORPORATE_CASH, CUSTODIAL_CASH
from trusts.domain.factors import factor
from trusts.domain.factors import factor_text as published_factor


def remittance_stream(trust_code: str) -> str:
    return f"remittance:{trust_code}"


def holder_stream(holder_code: str) -> str:
    return f"holder:{holder_code}"


def trust_cash(trust_code: str) -> str:
    return f"trust:{trust_code}:cash"


def reserve_account(trust_code: str) -> str:
    """The trust's reserve account: its cash held apart (trusts.domain.deal_structure.ReserveAccount)."""
    return f"trust:{trust_code}:reserve"


def class_account(trust_code: str, class_name: str, part: str) -> str:
    return f"class:{trust_code}:{class_name}:{part}"


def factor_text(balance_cents: int, original_cents: int) -> str:
    """A factor as published: balance over original (trusts.domain.factors), 8 decimals in fixed point."""
    return published_factor(factor(balance_cents, original_cents))


def close_key(trust_code: str, period: str) -> str:
    """The idempotency key of a period's PeriodClosed event: a second close cannot be recorded."""
    return f"period-close:{trust_code}:{period}"


@dataclass(frozen=True, slots=True, kw_only=True)
class CloseContext:
    trust_code: str
    period: str
    record_date: date
    payment_date: date
    through_position: int
    previous_through: int
    original_faces: dict[str, int]
    coupons: dict[str, str]
    pool_original_cents: int
    # Usernames of who asked for the close and who approved it (four-eyes); None when nobody did.
    requested_by: str | None = None
    approved_by: str | None = None


def close_appends(ctx: CloseContext, figures: CloseFigures) -> list[StreamAppend]:
    """Every stream's events for one close, ready for one append_batch."""
    paid = figures.paid_by_class()
    trust_events = [
        _collections_remitted(ctx, figures),
        *_fee_and_spread(ctx, figures),
        *_trustee_fee(ctx, figures),
        *_reserve_moved(ctx, figures),
        *(_class_distributed(ctx, c, paid.get(c.name, (0, 0))) for c in figures.waterfall.classes),
        *_excess(ctx, figures),
        period_closed(ctx, figures).new_event(effective_date=ctx.payment_date,
                                              idempotency_key=close_key(ctx.trust_code, ctx.period)),
    ]
    # One append per holder stream: a holder of several classes gets all its payments together.
    by_holder: dict[str, list[NewEvent]] = {}
    for payment in figures.payments:
        by_holder.setdefault(payment.holder_code, []).append(_distribution_paid(ctx, payment))
    holder_events = [StreamAppend(holder_stream(code), None, tuple(events)) for code, events in by_holder.items()]
    return [StreamAppend(remittance_stream(ctx.trust_code), None, tuple(trust_events)), *holder_events]


def _lines(*pairs: tuple[str, int]) -> tuple[PostingLine, ...]:
    return tuple(PostingLine(account, cents) for account, cents in pairs if cents)


def _collections_remitted(ctx: CloseContext, f: CloseFigures) -> NewEvent:
    trust, advances_due = trust_cash(ctx.trust_code), f"trust:{ctx.trust_code}:advances_due"
    # Advances net of recoveries: the servicer pays from its own cash into the trust's, and the
    # servicer's receivable and the trust's debt to it both move by the same amount.
    net_advance = f.advanced_cents - f.recovered_cents
    postings = _lines(
        (CUSTODIAL_CASH, -f.servicer_remits_cents), (trust, f.servicer_remits_cents + net_advance),
        (CORPORATE_CASH, -net_advance), (f"servicer:advances:{ctx.trust_code}", net_advance),
        (advances_due, -net_advance),
    )
    event = CollectionsRemitted(
        trust=ctx.trust_code, period=ctx.period, collected=dict(f.collected), prior_period_cents=f.prior_period_cents,
        advanced_cents=f.advanced_cents, recovered_cents=f.recovered_cents,
        returns_carried_in_cents=f.returns_carried_in_cents, returns_outstanding_cents=f.returns_outstanding_cents,
        servicer_remits_cents=f.servicer_remits_cents,
    )
    return event.new_event(effective_date=ctx.payment_date, postings=postings)


def _fee_and_spread(ctx: CloseContext, f: CloseFigures) -> list[NewEvent]:
    w, code = f.waterfall, ctx.trust_code
    return [
        _fee_paid(ctx, ServicingFeePaid, (w.fee_due_cents, w.fee_paid_cents, w.fee_shortfall_cents),
                  f"servicer:servicing_fees:{code}"),
        _fee_paid(ctx, IssuerSpreadPaid, (w.spread_due_cents, w.spread_paid_cents, w.spread_shortfall_cents),
                  f"issuer:{code}:spread"),
    ]


def _trustee_fee(ctx: CloseContext, f: CloseFigures) -> list[NewEvent]:
    """The trustee's fee, on a deal that has one (nothing due, nothing carried: no event)."""
    w = f.waterfall
    figures = (w.trustee_fee_due_cents, w.trustee_fee_paid_cents, w.trustee_fee_shortfall_cents)
    if not any(figures):
        return []
    return [_fee_paid(ctx, TrusteeFeePaid, figures, f"trustee:{ctx.trust_code}:fees")]


def _fee_paid(ctx: CloseContext, event_class: type[ServicingFeePaid | IssuerSpreadPaid | TrusteeFeePaid],
              figures: tuple[int, int, int], payee_account: str) -> NewEvent:
    """A fee's event (due, paid, shortfall): what was paid moves from the trust's cash to the payee's account."""
    due, paid, shortfall = figures
    event = event_class(trust=ctx.trust_code, period=ctx.period, due_cents=due, paid_cents=paid,
                        shortfall_cents=shortfall)
    return event.new_event(effective_date=ctx.payment_date,
                           postings=_lines((trust_cash(ctx.trust_code), -paid), (payee_account, paid)))


def _reserve_moved(ctx: CloseContext, f: CloseFigures) -> list[NewEvent]:
    """The reserve account's movements, on a deal that has one (an empty reserve that did not move: no event).

    The waterfall's reserve begins the first period with the initial deposit in it; the issuer makes
    that deposit at the first close, so the event's own begin balance is the waterfall's less it.
    """
    w, code = f.waterfall, ctx.trust_code
    funded = f.reserve_funded_cents
    if not (funded or w.reserve_balance_begin_cents or w.reserve_draw_cents or w.reserve_deposit_cents
            or w.reserve_released_cents or w.reserve_balance_end_cents):
        return []
    event = ReserveAccountMoved(
        trust=code, period=ctx.period, balance_begin_cents=w.reserve_balance_begin_cents - funded,
        funded_cents=funded, draw_cents=w.reserve_draw_cents, deposit_cents=w.reserve_deposit_cents,
        released_cents=w.reserve_released_cents, balance_end_cents=w.reserve_balance_end_cents,
    )
    postings = _lines(
        (f"issuer:{code}:reserve_funding", -funded),
        (reserve_account(code), funded - w.reserve_draw_cents + w.reserve_deposit_cents - w.reserve_released_cents),
        (trust_cash(code), w.reserve_draw_cents - w.reserve_deposit_cents),
        (f"issuer:{code}:residual", w.reserve_released_cents),
    )
    return [event.new_event(effective_date=ctx.payment_date, postings=postings)]


def trigger_test(status: TriggerStatus | None) -> TriggerTest | None:
    """The waterfall's trigger status as PeriodClosed records it."""
    if status is None:
        return None
    return TriggerTest(
        stepdown_reached=status.stepdown_reached, cumulative_loss_percent=status.cumulative_loss_percent,
        cumulative_loss_limit=status.cumulative_loss_limit, delinquency_60_percent=status.delinquency_60_percent,
        delinquency_60_limit=status.delinquency_60_limit, delinquency_90_percent=status.delinquency_90_percent,
        delinquency_90_limit=status.delinquency_90_limit, failed=status.failed, in_effect=status.in_effect,
        principal_rule=status.principal_rule,
    )


def _class_line(ctx: CloseContext, c: ClassResult) -> ClassLine:
    """A class's result in the waterfall as PeriodClosed and ClassDistributed record it."""
    return ClassLine(
        class_name=c.name, coupon=ctx.coupons[c.name], balance_begin_cents=c.balance_begin_cents,
        interest_due_cents=c.interest_due_cents, interest_paid_cents=c.interest_paid_cents,
        interest_shortfall_cents=c.interest_shortfall_carried_cents, principal_paid_cents=c.principal_paid_cents,
        loss_written_off_cents=c.loss_written_off_cents, balance_end_cents=c.balance_end_cents,
        factor=factor_text(c.balance_end_cents, ctx.original_faces[c.name]),
        interest_accrued_cents=c.interest_accrued_cents, kind=c.kind,
    )


def _class_distributed(ctx: CloseContext, c: ClassResult, paid: tuple[int, int]) -> NewEvent:
    """The class's distribution; paid: (interest, principal) its holders were paid (CloseFigures.paid_by_class)."""
    interest, principal = paid
    line = _class_line(ctx, c)
    event = ClassDistributed(
        trust=ctx.trust_code, period=ctx.period, class_name=line.class_name, coupon=line.coupon,
        balance_begin_cents=line.balance_begin_cents, interest_due_cents=line.interest_due_cents,
        interest_paid_cents=line.interest_paid_cents, interest_shortfall_cents=line.interest_shortfall_cents,
        principal_paid_cents=line.principal_paid_cents, loss_written_off_cents=line.loss_written_off_cents,
        balance_end_cents=line.balance_end_cents, factor=line.factor, paid_to_holders_cents=interest + principal,
        payment_date=ctx.payment_date, interest_accrued_cents=line.interest_accrued_cents, kind=line.kind,
    )
    postings = _lines((trust_cash(ctx.trust_code), -(interest + principal)),
                      (class_account(ctx.trust_code, c.name, "interest"), interest),
                      (class_account(ctx.trust_code, c.name, "principal"), principal))
    return event.new_event(effective_date=ctx.payment_date, postings=postings)


def _excess(ctx: CloseContext, f: CloseFigures) -> list[NewEvent]:
    if not f.excess_cents:
        return []
    w = f.waterfall
    event = ExcessPaid(trust=ctx.trust_code, period=ctx.period, interest_cents=w.excess_interest_cents,
                       principal_cents=w.excess_principal_cents)
    return [event.new_event(effective_date=ctx.payment_date,
                            postings=_lines((trust_cash(ctx.trust_code), -f.excess_cents),
                                            (f"issuer:{ctx.trust_code}:residual", f.excess_cents)))]


def _distribution_paid(ctx: CloseContext, p: HolderPayment) -> NewEvent:
    return distribution_paid(ctx.trust_code, ctx.period, p, record_date=ctx.record_date,
                             payment_date=ctx.payment_date)


def distribution_paid(trust_code: str, period: str, p: HolderPayment, *, record_date: date,
                      payment_date: date) -> NewEvent:
    """One holder's DistributionPaid: the class's interest and principal accounts to the holder's cash."""
    event = DistributionPaid(
        trust=trust_code, period=period, class_name=p.class_name, face_held_cents=p.face_held_cents,
        interest_cents=p.interest_cents, principal_cents=p.principal_cents, record_date=record_date,
        payment_date=payment_date,
    )
    postings = _lines((class_account(trust_code, p.class_name, "interest"), -p.interest_cents),
                      (class_account(trust_code, p.class_name, "principal"), -p.principal_cents),
                      (f"holder:{p.holder_code}:cash", p.interest_cents + p.principal_cents))
    return event.new_event(effective_date=payment_date, postings=postings)


def period_closed(ctx: CloseContext, f: CloseFigures) -> PeriodClosed:
    """The PeriodClosed a close records: everything the period closed on, for reports and checks.

    It ends with who asked for the close and who approved it (four-eyes): usernames, or None
    when nobody did (a scheduled close names neither; one nobody approved, only its requester).
    """
    w, r = f.waterfall, f.returns
    return PeriodClosed(
        trust=ctx.trust_code, period=ctx.period, record_date=ctx.record_date, payment_date=ctx.payment_date,
        window=CloseWindow(after_position=ctx.previous_through, through_position=ctx.through_position),
        collected=dict(f.collected), prior_period_cents=f.prior_period_cents,
        advanced_cents=f.advanced_cents, recovered_cents=f.recovered_cents,
        advances_outstanding={n: (v[0], v[1]) for n, v in sorted(f.advances_outstanding.items())},
        returns_carried_in_cents=f.returns_carried_in_cents, returns_new_cents=r.new_cents if r else 0,
        returns_recovered_cents=r.recovered_cents if r else 0,
        returns_outstanding_cents=f.returns_outstanding_cents,
        returns_outstanding=(r.outstanding[0], r.outstanding[1]) if r else (0, 0),
        interest_available_cents=w.interest_collected_cents, principal_available_cents=w.principal_collected_cents,
        realized_loss_cents=w.realized_loss_cents, servicing_fee_cents=f.servicing_fee_due_cents,
        issuer_spread_cents=f.issuer_spread_due_cents,
        fee_due_cents=w.fee_due_cents, fee_paid_cents=w.fee_paid_cents, fee_shortfall_cents=w.fee_shortfall_cents,
        spread_due_cents=w.spread_due_cents, spread_paid_cents=w.spread_paid_cents,
        spread_shortfall_cents=w.spread_shortfall_cents,
        classes=tuple(_class_line(ctx, c) for c in w.classes),
        excess_interest_cents=w.excess_interest_cents, excess_principal_cents=w.excess_principal_cents,
        unabsorbed_loss_cents=w.unabsorbed_loss_cents, paid_to_holders_cents=f.paid_to_holders_cents,
        holder_payments=len(f.payments), retained_cents=f.retained_cents,
        pool_balance_begin_cents=f.pool_balance_begin_cents, pool_balance_end_cents=f.pool_balance_end_cents,
        pool_original_cents=ctx.pool_original_cents,
        pool_factor=factor_text(f.pool_balance_end_cents, ctx.pool_original_cents),
        reconciliation=f.reconciliation().recorded(),
        requested_by=ctx.requested_by, approved_by=ctx.approved_by,
        period_number=f.period_number, trustee_fee_cents=f.trustee_fee_due_cents,
        trustee_fee_due_cents=w.trustee_fee_due_cents, trustee_fee_paid_cents=w.trustee_fee_paid_cents,
        trustee_fee_shortfall_cents=w.trustee_fee_shortfall_cents, accrual_cents=w.accrual_cents,
        oc_target_cents=w.oc_target_cents, oc_end_cents=w.oc_end_cents, oc_release_cents=w.oc_release_cents,
        turbo_principal_cents=w.turbo_principal_cents, loss_absorbed_by_oc_cents=w.loss_absorbed_by_oc_cents,
        reserve_balance_begin_cents=w.reserve_balance_begin_cents, reserve_funded_cents=f.reserve_funded_cents,
        reserve_draw_cents=w.reserve_draw_cents, reserve_deposit_cents=w.reserve_deposit_cents,
        reserve_released_cents=w.reserve_released_cents, reserve_balance_end_cents=w.reserve_balance_end_cents,
        triggers=trigger_test(w.triggers), cumulative_loss_cents=f.cumulative_loss_cents,
        trigger_failed=f.trigger_failed, call_retired=w.retired_by_call,
        call_written_off_cents=w.call_written_off_cents,
    )
