"""Loss mitigation: forbearance, repayment plans, trial plans, payment deferral and permanent modification.

The money rules are `servicing.domain.loss_mitigation` (pure); this module reads the loan, checks the step
and the dates, and records each step as an event of `servicing.events` (the LoanPosition projection folds
it; `servicing.verification` re-derives it). The steps, and what each allows next:

    "" or modified --forbearance_start--> forbearance --forbearance_end--> deferral ("") | repayment plan | ""
    "" or modified --repayment_plan_start--> repayment_plan --repayment_plan_end--> "" (kept or broken)
    "" or modified --trial_start--> trial --trial_end--> failed ("") | kept (trial) --loan_modify--> modified
    "" or modified --payment_defer--> "" (a deferral without a forbearance)

Rules kept here:
- Every step's date is a dated fact (ledger.business_time): not ahead of today, not before boarding, not in
  a trust's closed period; a plan's end not before its start, a modification not before its trial's end.
- Only an active loan (not in foreclosure, REO or closed) enters a plan.
- Payments during a plan are posted as ordinary payments (servicing.services.payments): what does not
  cover a contractual installment waits in suspense until it does. A plan is judged by the standing
  payments (not returned) received since it started (`plan_verdict`).
- Principal forgiveness is a four-eyes act: a modification that forgives is recorded by the system, or
  by a staff member approving another's request (approvals, Kind.PRINCIPAL_FORGIVENESS); a person alone
  is refused. The forgiven principal is a realized loss (collections.realized_loss), which a trust's
  close takes for a pooled loan.
- A trust's deal decides what may change on a pooled loan: the trusts app registers a rule here
  (`register_pool_rule`); a deferral or a modification it refuses is refused, naming the trust and the
  buy-out that frees the loan.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction

from ledger.actors import Actor, four_eyes_problem
from ledger.business_time import CheckedFact
from ledger.domain.money import CentsError, require_cents
from ledger.domain.records import NewEvent, PostingLine, RecordedEvent
from ledger.models import Event
from servicing.domain import accounts
from servicing.domain import loss_mitigation as rules
from servicing.errors import ServicingError
from servicing.events import (
    Collections, ForbearanceEnded, ForbearanceStarted, LoanFact, LoanModified, PaymentDeferred, PaymentPosted,
    PaymentReturned, RepaymentPlanEnded, RepaymentPlanStarted, TrialPlanEnded, TrialPlanStarted,
)
from servicing.models import LoanPosition, LoanStatus, loan_stream
from servicing.services.loan_events import append_at, dated_loan_fact, folded, open_position, require_status, with_retries

RESOLUTIONS = ("deferral", "repayment_plan", "none")
# What may start a plan: no plan, or a loan modified before (a re-default).
_OPEN_STEPS = ("", rules.MODIFIED)


class LossMitigationRefused(ServicingError):
    """A loss-mitigation step the loan's state, dates or terms do not allow; nothing was recorded."""

    def __init__(self, loan_number: str, reason: str):
        super().__init__(f"loan {loan_number}: {reason}")


# --- The trusts' say over a pooled loan ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BalanceChange:
    """What a deferral or modification would do to the loan's balance, for a trust's rule to judge."""

    what: str  # "payment deferral" or "modification"
    on: date
    capitalized_cents: int = 0
    deferred_cents: int = 0
    forgiven_cents: int = 0


PoolRule = Callable[[str, BalanceChange], "str | None"]
_POOL_RULES: dict[str, PoolRule] = {}


def register_pool_rule(name: str, rule: PoolRule) -> None:
    """`rule(loan_number, change)` answers why the change is refused on the loan (None: allowed)."""
    _POOL_RULES[name] = rule


def _require_pool_allows(loan_number: str, change: BalanceChange) -> None:
    for rule in list(_POOL_RULES.values()):
        problem = rule(loan_number, change)
        if problem:
            raise LossMitigationRefused(loan_number, problem)


# --- Forbearance -----------------------------------------------------------------------------------------


@transaction.atomic
def forbearance_start(*, loan_number: str, started_on: date, months: int, reduced_payment_cents: int = 0,
                      acting_user: Actor) -> RecordedEvent:
    """Suspend (reduced payment 0) or reduce the payments for `months`; no late charges on those installments."""
    dated = dated_loan_fact(loan_number, "forbearance start", started_on)
    _require_months(loan_number, months)
    _require_amount(loan_number, "the reduced payment", reduced_payment_cents)

    def attempt() -> RecordedEvent:
        position = _plan_position(loan_number, "start a forbearance on", _OPEN_STEPS)
        regular = position.payment_pi_cents + position.escrow_monthly_cents
        if reduced_payment_cents >= regular:
            raise LossMitigationRefused(loan_number, f"a reduced payment of {reduced_payment_cents} cents is not "
                                        f"below the regular installment of {regular} cents")
        fact = ForbearanceStarted(started_on=started_on, months=months, reduced_payment_cents=reduced_payment_cents,
                                  covered_due_dates=rules.cycle_from(position.next_due_date, started_on, months))
        return _append(position, [fact.new_event(effective_date=started_on)], acting_user, dated)[0]

    return with_retries(attempt)


@transaction.atomic
def forbearance_end(*, loan_number: str, ended_on: date, resolution: str, repayment_months: int | None = None,
                    acting_user: Actor) -> list[RecordedEvent]:
    """End the forbearance: the missed installments deferred, spread over a repayment plan, or left ("none")."""
    dated = dated_loan_fact(loan_number, "forbearance end", ended_on)
    if resolution not in RESOLUTIONS:
        raise LossMitigationRefused(loan_number, f"a forbearance ends in {', '.join(RESOLUTIONS)}, not {resolution!r}")
    if (resolution == "repayment_plan") != (repayment_months is not None):
        raise LossMitigationRefused(loan_number, "give the repayment plan's months exactly when it ends in one")

    def attempt() -> list[RecordedEvent]:
        position = _plan_position(loan_number, "end a forbearance on", (rules.FORBEARANCE,))
        started = _last_fact(loan_number, ForbearanceStarted)
        _require_not_before(loan_number, "the forbearance's end", ended_on, "its start", started.started_on)
        ended = ForbearanceEnded(ended_on=ended_on, resolution=resolution)
        events = [ended.new_event(effective_date=ended_on)]
        after = folded(position, ended)
        if resolution == "deferral":
            events.append(_deferral_event(after, ended_on))
        elif resolution == "repayment_plan":
            events.append(_repayment_plan_event(after, ended_on, repayment_months))
        return _append(position, events, acting_user, dated)

    return with_retries(attempt)


# --- Payment deferral --------------------------------------------------------------------------------------


@transaction.atomic
def payment_defer(*, loan_number: str, deferred_on: date, acting_user: Actor) -> RecordedEvent:
    """Defer every installment due and unpaid on `deferred_on` to the non-interest-bearing balance."""
    dated = dated_loan_fact(loan_number, "payment deferral", deferred_on)

    def attempt() -> RecordedEvent:
        position = _plan_position(loan_number, "defer payments of", _OPEN_STEPS)
        return _append(position, [_deferral_event(position, deferred_on)], acting_user, dated)[0]

    return with_retries(attempt)


def _deferral_event(position: LoanPosition, on: date) -> NewEvent:
    loan = position.loan_id
    try:
        d = rules.deferral(principal_balance_cents=position.principal_balance_cents, note_rate=position.note_rate,
                           payment_pi_cents=position.payment_pi_cents, next_due_date=position.next_due_date,
                           escrow_advance_cents=position.escrow_advance_cents,
                           late_charges_due_cents=position.late_charges_due_cents, on=on)
    except ValueError as error:
        raise LossMitigationRefused(loan, str(error)) from None
    _require_pool_allows(loan, BalanceChange("payment deferral", on, deferred_cents=d.deferred_cents))
    fact = PaymentDeferred(
        deferred_on=on, due_dates=d.due_dates, principal_cents=d.principal_cents, interest_cents=d.interest_cents,
        escrow_advance_cents=d.escrow_advance_cents, late_charges_waived_cents=d.late_charges_waived_cents,
        next_due_date_before=position.next_due_date, next_due_date_after=d.next_due_date_after)
    return fact.new_event(effective_date=on, postings=deferral_postings(loan, fact))


def deferral_postings(loan: str, d: PaymentDeferred) -> tuple[PostingLine, ...]:
    """The deferred balance takes the installments' principal and interest and the advances; late charges waived."""
    return _lines([
        (accounts.deferred_principal(loan), d.deferred_cents), (accounts.principal(loan), -d.principal_cents),
        (accounts.capitalized_interest(loan), -d.interest_cents),
        (accounts.escrow_advance(loan), -d.escrow_advance_cents),
        (accounts.LATE_CHARGE_INCOME, d.late_charges_waived_cents),
        (accounts.late_charges(loan), -d.late_charges_waived_cents),
    ])


# --- Repayment and trial plans -------------------------------------------------------------------------------


@transaction.atomic
def repayment_plan_start(*, loan_number: str, started_on: date, months: int, acting_user: Actor) -> RecordedEvent:
    """Spread the arrears over `months` installments on top of the regular one."""
    dated = dated_loan_fact(loan_number, "repayment plan start", started_on)
    _require_months(loan_number, months)

    def attempt() -> RecordedEvent:
        position = _plan_position(loan_number, "start a repayment plan on", _OPEN_STEPS)
        return _append(position, [_repayment_plan_event(position, started_on, months)], acting_user, dated)[0]

    return with_retries(attempt)


def _repayment_plan_event(position: LoanPosition, on: date, months: int | None) -> NewEvent:
    _require_months(position.loan_id, months)
    try:
        terms = rules.repayment_plan(next_due_date=position.next_due_date, payment_pi_cents=position.payment_pi_cents,
                                     escrow_monthly_cents=position.escrow_monthly_cents,
                                     suspense_cents=position.suspense_cents, started_on=on, months=months)
    except ValueError as error:
        raise LossMitigationRefused(position.loan_id, str(error)) from None
    fact = RepaymentPlanStarted(started_on=on, months=months, arrears_cents=terms.arrears_cents,
                                regular_installment_cents=terms.regular_installment_cents,
                                due_dates=terms.due_dates, amounts_cents=terms.amounts_cents)
    return fact.new_event(effective_date=on)


@transaction.atomic
def trial_start(*, loan_number: str, started_on: date, months: int, payment_cents: int,
                acting_user: Actor) -> RecordedEvent:
    """Offer a trial period: `months` trial payments of `payment_cents` on the loan's next due dates."""
    dated = dated_loan_fact(loan_number, "trial plan start", started_on)
    _require_months(loan_number, months)
    _require_amount(loan_number, "the trial payment", payment_cents, zero=False)

    def attempt() -> RecordedEvent:
        position = _plan_position(loan_number, "start a trial plan on", _OPEN_STEPS)
        dues = rules.trial_due_dates(next_due_date=position.next_due_date, started_on=started_on, months=months)
        fact = TrialPlanStarted(started_on=started_on, months=months, payment_cents=payment_cents, due_dates=dues)
        return _append(position, [fact.new_event(effective_date=started_on)], acting_user, dated)[0]

    return with_retries(attempt)


@transaction.atomic
def repayment_plan_end(*, loan_number: str, ended_on: date, acting_user: Actor) -> RecordedEvent:
    """Judge the repayment plan by the money received: kept (the loan is as current as it paid) or broken."""
    return _plan_end(loan_number, ended_on, acting_user, RepaymentPlanStarted, RepaymentPlanEnded,
                     rules.REPAYMENT_PLAN)


@transaction.atomic
def trial_end(*, loan_number: str, ended_on: date, acting_user: Actor) -> RecordedEvent:
    """Judge the trial by the money received: kept (the loan may be modified) or failed."""
    return _plan_end(loan_number, ended_on, acting_user, TrialPlanStarted, TrialPlanEnded, rules.TRIAL)


def plan_schedule(fact: RepaymentPlanStarted | TrialPlanStarted) -> tuple[tuple, tuple]:
    """A plan's (due dates, amounts) as its start recorded them."""
    if isinstance(fact, TrialPlanStarted):
        return fact.due_dates, (fact.payment_cents,) * len(fact.due_dates)
    return fact.due_dates, fact.amounts_cents


def _plan_end(loan_number: str, ended_on: date, acting_user: Actor, started_class, ended_class,
              step: str) -> RecordedEvent:
    dated = dated_loan_fact(loan_number, f"{step.replace('_', ' ')} end", ended_on)

    def attempt() -> RecordedEvent:
        position = _plan_position(loan_number, f"end the {step.replace('_', ' ')} of", (step,))
        started = _last_fact(loan_number, started_class)
        if isinstance(started, TrialPlanStarted) and _last_fact(loan_number, TrialPlanEnded, after=started):
            raise LossMitigationRefused(loan_number, "its trial was kept already; modify the loan")
        _require_not_before(loan_number, "the plan's end", ended_on, "its start", started.started_on)
        due_dates, amounts = plan_schedule(started)
        verdict = rules.plan_verdict(due_dates=due_dates, amounts=amounts, payments=standing_payments(loan_number),
                                     started_on=started.started_on, on=ended_on)
        if not (verdict.kept or verdict.broken):
            raise LossMitigationRefused(loan_number, f"the plan is still running on {ended_on.isoformat()}: "
                                        f"{verdict.received_cents[-1]} of {verdict.required_cents[-1]} cents "
                                        "received and no installment missed")
        fact = ended_class(ended_on=ended_on, kept=verdict.kept, received_cents=verdict.received_cents,
                           required_cents=verdict.required_cents)
        return _append(position, [fact.new_event(effective_date=ended_on)], acting_user, dated)[0]

    return with_retries(attempt)


def standing_payments(loan_number: str) -> list[tuple[date, int]]:
    """The loan's posted payments not returned: (received on, amount), what a plan is judged by."""
    posted: dict[str, tuple[date, int]] = {}
    rows = Event.objects.filter(stream=loan_stream(loan_number),
                                event_type__in=(PaymentPosted.event_type, PaymentReturned.event_type))
    for event_type, payload in rows.order_by("version").values_list("event_type", "payload"):
        fact = (PaymentPosted if event_type == PaymentPosted.event_type else PaymentReturned).from_payload(payload)
        if isinstance(fact, PaymentPosted):
            posted[fact.reference] = (fact.received_on, fact.amount_cents)
        else:
            posted.pop(fact.reference, None)
    return list(posted.values())


# --- Modification ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ModificationTerms:
    """The terms staff agree with the borrower (the figures follow from them and the loan's position)."""

    modified_on: date
    note_rate: Decimal
    term_months: int
    first_payment_date: date
    principal_forbearance_cents: int = 0
    forgiven_cents: int = 0


@transaction.atomic
def loan_modify(*, loan_number: str, terms: ModificationTerms, acting_user: Actor,
                requested_by=None) -> RecordedEvent:
    """Make a kept trial a permanent modification. Forgiveness is four-eyes (see the module docstring):
    `requested_by` is who asked, `acting_user` the approver; or the system alone."""
    if terms.forgiven_cents:
        asking, approving = (acting_user, None) if requested_by is None else (requested_by, acting_user)
        problem = four_eyes_problem(act=f"forgiving principal of loan {loan_number}", acting=asking,
                                    approved_by=approving)
        if problem:
            raise LossMitigationRefused(loan_number, problem)
    dated = dated_loan_fact(loan_number, "modification", terms.modified_on)
    names = {"requested_by": _username(requested_by if requested_by is not None else acting_user),
             "approved_by": _username(acting_user) if requested_by is not None else None}

    def attempt() -> RecordedEvent:
        position = open_position(loan_number, action="modify")
        return _append(position, [_modified(position, terms, names)[0]], acting_user, dated)[0]

    return with_retries(attempt)


def loan_modify_check(*, loan_number: str, terms: ModificationTerms) -> rules.Modification:
    """What loan_modify would record now (its figures), refusing what it would refuse; records nothing."""
    dated_loan_fact(loan_number, "modification", terms.modified_on)
    return _modified(open_position(loan_number, action="modify"), terms, {})[1]


def _modification_inputs(position, terms: ModificationTerms) -> dict:
    return dict(principal_balance_cents=position.principal_balance_cents, note_rate=position.note_rate,
                next_due_date=position.next_due_date, escrow_advance_cents=position.escrow_advance_cents,
                fees_due_cents=position.fees_due_cents, late_charges_due_cents=position.late_charges_due_cents,
                on=terms.modified_on, new_note_rate=terms.note_rate, term_months=terms.term_months,
                first_payment_date=terms.first_payment_date,
                principal_forbearance_cents=terms.principal_forbearance_cents, forgiven_cents=terms.forgiven_cents)


def _modified(position: LoanPosition, terms: ModificationTerms, names: dict) -> tuple[NewEvent, rules.Modification]:
    loan = position.loan_id
    require_status(position, action="modify it", allowed=(LoanStatus.ACTIVE,))
    if position.loss_mitigation != rules.TRIAL:
        raise LossMitigationRefused(loan, "only a loan whose trial plan was kept is modified; it is "
                                    f"{position.loss_mitigation or 'in no plan'}")
    started = _last_fact(loan, TrialPlanStarted)
    ended = _last_fact(loan, TrialPlanEnded, after=started)
    if ended is None or not ended.kept:
        raise LossMitigationRefused(loan, "its trial plan is still running; end it (kept) before the modification")
    _require_not_before(loan, "the modification", terms.modified_on, "the trial's end", ended.ended_on)
    try:
        m = rules.modification(**_modification_inputs(position, terms))
    except (ValueError, CentsError) as error:
        raise LossMitigationRefused(loan, str(error)) from None
    _require_pool_allows(loan, BalanceChange("modification", terms.modified_on, capitalized_cents=m.capitalized_cents,
                                             deferred_cents=m.principal_forbearance_cents,
                                             forgiven_cents=m.forgiven_cents))
    fact = LoanModified(
        modified_on=terms.modified_on, missed_due_dates=m.missed_due_dates,
        principal_before_cents=m.principal_before_cents, missed_interest_cents=m.missed_interest_cents,
        escrow_advance_cents=m.escrow_advance_cents, fees_cents=m.fees_cents,
        late_charges_waived_cents=m.late_charges_waived_cents,
        principal_forbearance_cents=m.principal_forbearance_cents, forgiven_cents=m.forgiven_cents,
        principal_after_cents=m.principal_after_cents, note_rate=m.note_rate, term_months=m.term_months,
        first_payment_date=m.first_payment_date, maturity_date=m.maturity_date, payment_pi_cents=m.payment_pi_cents,
        collections=Collections(realized_loss_cents=m.forgiven_cents), **names)
    return fact.new_event(effective_date=terms.modified_on, postings=modification_postings(loan, fact)), m


def modification_postings(loan: str, m: LoanModified) -> tuple[PostingLine, ...]:
    """Arrears capitalized into principal, late charges waived, forbearance set aside, forgiveness a loss."""
    capitalized = m.missed_interest_cents + m.escrow_advance_cents + m.fees_cents
    return _lines([
        (accounts.principal(loan), capitalized), (accounts.capitalized_interest(loan), -m.missed_interest_cents),
        (accounts.escrow_advance(loan), -m.escrow_advance_cents), (accounts.fees(loan), -m.fees_cents),
        (accounts.LATE_CHARGE_INCOME, m.late_charges_waived_cents),
        (accounts.late_charges(loan), -m.late_charges_waived_cents),
        (accounts.deferred_principal(loan), m.principal_forbearance_cents),
        (accounts.principal(loan), -m.principal_forbearance_cents),
        (accounts.realized_loss(loan), m.forgiven_cents), (accounts.principal(loan), -m.forgiven_cents),
    ])


# --- One entry for the thin interfaces (the loan admin's page, the command) -------------------------------

STEP_NAMES = ("forbearance-start", "forbearance-end", "defer", "repayment-plan-start", "repayment-plan-end",
              "trial-start", "trial-end", "modify")


def step_record(step: str, *, loan_number: str, on: date, acting_user: Actor, months: int | None = None,
                amount_cents: int = 0, resolution: str | None = None, repayment_months: int | None = None,
                note_rate: Decimal | None = None, term_months: int | None = None,
                first_payment_date: date | None = None, principal_forbearance_cents: int = 0) -> list[RecordedEvent]:
    """Record the step named by `step` (STEP_NAMES) on `on`; `amount_cents` is a forbearance's reduced payment
    or a trial's payment. A modification that forgives principal is asked for through approvals instead."""
    loan = {"loan_number": loan_number, "acting_user": acting_user}
    calls = {
        "forbearance-start": lambda: forbearance_start(started_on=on, months=months,
                                                       reduced_payment_cents=amount_cents, **loan),
        "forbearance-end": lambda: forbearance_end(ended_on=on, resolution=resolution,
                                                   repayment_months=repayment_months, **loan),
        "defer": lambda: payment_defer(deferred_on=on, **loan),
        "repayment-plan-start": lambda: repayment_plan_start(started_on=on, months=months, **loan),
        "repayment-plan-end": lambda: repayment_plan_end(ended_on=on, **loan),
        "trial-start": lambda: trial_start(started_on=on, months=months, payment_cents=amount_cents, **loan),
        "trial-end": lambda: trial_end(ended_on=on, **loan),
        "modify": lambda: loan_modify(terms=ModificationTerms(
            modified_on=on, note_rate=note_rate, term_months=term_months, first_payment_date=first_payment_date,
            principal_forbearance_cents=principal_forbearance_cents), **loan),
    }
    if step not in calls:
        raise LossMitigationRefused(loan_number, f"no loss-mitigation step {step!r}; one of {', '.join(STEP_NAMES)}")
    if step == "modify" and (note_rate is None or term_months is None or first_payment_date is None):
        raise LossMitigationRefused(loan_number, "a modification needs its new rate, term and first payment date")
    recorded = calls[step]()
    return recorded if isinstance(recorded, list) else [recorded]


# --- Shared -----------------------------------------------------------------------------------------------


def _plan_position(loan_number: str, action: str, allowed_steps: tuple[str, ...]) -> LoanPosition:
    position = open_position(loan_number, action=action)
    require_status(position, action=action.removesuffix(" on").removesuffix(" of"), allowed=(LoanStatus.ACTIVE,))
    if position.loss_mitigation not in allowed_steps:
        now = position.loss_mitigation.replace("_", " ") or "in no plan"
        wanted = " or ".join(s.replace("_", " ") or "in no plan" for s in allowed_steps)
        raise LossMitigationRefused(loan_number, f"is {now}; cannot {action} it unless it is {wanted}")
    return position


def _last_fact(loan_number: str, cls: type[LoanFact], *, after: LoanFact | None = None):
    """The loan's latest event of `cls` (typed), or None; with `after`, only one recorded after that fact's event."""
    rows = Event.objects.filter(stream=loan_stream(loan_number), event_type=cls.event_type)
    if after is not None:
        start = (Event.objects.filter(stream=loan_stream(loan_number), event_type=after.event_type)
                 .order_by("-version").values_list("version", flat=True).first())
        rows = rows.filter(version__gt=start or 0)
    payload = rows.order_by("-version").values_list("payload", flat=True).first()
    return None if payload is None else cls.from_payload(payload)


def _require_not_before(loan_number: str, what: str, day: date, other: str, other_day: date) -> None:
    if day < other_day:
        raise LossMitigationRefused(loan_number, f"{what} on {day.isoformat()} is before {other} on "
                                    f"{other_day.isoformat()}")


def _require_months(loan_number: str, months) -> None:
    if type(months) is not int or not 1 <= months <= rules.MAX_PLAN_MONTHS:
        raise LossMitigationRefused(loan_number, f"a plan runs 1 to {rules.MAX_PLAN_MONTHS} months, not {months!r}")


def _require_amount(loan_number: str, name: str, cents, *, zero: bool = True) -> None:
    try:
        require_cents(cents, name, zero=zero)
    except CentsError as error:
        raise LossMitigationRefused(loan_number, str(error)) from None


def _username(user) -> str | None:
    return user.get_username() if getattr(user, "pk", None) else None


def _append(position: LoanPosition, events: list[NewEvent], acting_user: Actor,
            dated: CheckedFact) -> list[RecordedEvent]:
    # The date checked again under the log's lock if a trust formed, a removal or a close was recorded since.
    return append_at(position, events, acting_user, dated.still_holds)


def _lines(lines: list[tuple[str, int]]) -> tuple[PostingLine, ...]:
    return tuple(PostingLine(account, cents) for account, cents in lines if cents)
