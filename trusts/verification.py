"""The pool's cut-off balances still what the ledger says, and each clean-up call priced by the removals it
recorded, for `verify_ledger` (registered in TrustsConfig.ready).

A trust buys each loan at its unpaid principal on the cut-off date, read
from the ledger when the pool is transferred. A fact recorded after the
transfer but dated on or before the cut-off (a back-dated curtailment, a
return) moves that principal after the price was fixed: the trust paid for
principal it will never collect (or the reverse), and no period of the trust
counts the difference. Each such posting is named, with the loan's cut-off
balance and the ledger's balance at the cut-off now.

One pass over the principal postings recorded after the first transfer and
dated on or before the latest cut-off (none in a sound book), then each
loan's membership decides; at most MAX_PROBLEMS, the earliest first.

A clean-up call (CleanUpCallExercised) is recorded in one append with a PoolLoanRemoved for each loan
it bought, just before it on the trust's stream: those removals are exactly its loans, dated the call
date, their proceeds its price and interest, their balances its pool balance, which is below its
percent of the cut-off balance (trusts.domain.cleanup_call). Each removal's postings balance as any
removal's do (the ledger's own check).
"""
from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Max

from ledger.models import Event, Posting
from ledger.selectors import account_balance
from servicing.domain import accounts
from trusts.domain.cleanup_call import CallEligibility
from trusts.events import CleanUpCallExercised, PoolLoanRemoved, PoolLoansTransferred
from trusts.models import PoolLoan

MAX_PROBLEMS = 20


def cutoff_balances_hold() -> list[str]:
    """Every pool loan's cut-off balance equals its principal account at the cut-off, as the log stands now."""
    transfers = dict(Event.objects.filter(event_type=PoolLoansTransferred.event_type, stream__startswith="trust:")
                     .values_list("stream", "position"))
    latest_cutoff = PoolLoan.objects.aggregate(day=Max("transferred_on"))["day"]
    if not transfers or latest_cutoff is None:
        return []
    problems, named = [], set()
    for posting in _late_principal_postings(min(transfers.values()), latest_cutoff):
        event_id, account, day = posting
        loan = account.split(":")[1]
        if loan in named:
            continue  # each loan named once: its later postings need no query
        member = _membership_bought_before(loan, event_id, day, transfers)
        if member is None:
            continue
        named.add(loan)
        problems.append(_problem(loan, member, event_id, day, transfers[f"trust:{member.trust.code}"]))
        if len(problems) >= MAX_PROBLEMS:
            break
    return problems


def _late_principal_postings(after_position: int, latest_cutoff) -> Iterator[tuple]:
    rows = (Posting.objects.filter(event_id__gt=after_position, effective_date__lte=latest_cutoff,
                                   account__startswith="loan:", account__endswith=":principal")
            .order_by("event_id").values_list("event_id", "account", "effective_date"))
    return rows.iterator(chunk_size=2000)


def _membership_bought_before(loan: str, event_id: int, day, transfers: dict[str, int]) -> PoolLoan | None:
    """The loan's membership whose cut-off is on or after `day` and whose transfer was recorded before the event."""
    for member in PoolLoan.objects.filter(loan_id=loan, transferred_on__gte=day).select_related("trust"):
        if transfers.get(f"trust:{member.trust.code}", event_id) < event_id:
            return member
    return None


def _problem(loan: str, member: PoolLoan, event_id: int, day, transfer_position: int) -> str:
    now = account_balance(accounts.principal(loan), as_of=member.transferred_on)
    return (f"event #{event_id} (loan {loan}, dated {day.isoformat()}) moved the loan's principal on or before "
            f"{member.trust.code}'s cut-off {member.transferred_on.isoformat()} after the pool was transferred "
            f"(event #{transfer_position}): the trust bought it at {member.cutoff_balance_cents} cents, the ledger "
            f"now holds {now} at the cut-off")


def cleanup_calls_hold() -> list[str]:
    """Every clean-up call's figures are those of the removals recorded with it, and allowed the call."""
    problems = []
    calls = Event.objects.filter(event_type=CleanUpCallExercised.event_type, stream__startswith="trust:")
    for position, stream, version, day, payload in calls.order_by("position").values_list(
            "position", "stream", "version", "effective_date", "payload"):
        call = CleanUpCallExercised.from_payload(payload)
        problem = _call_problem(stream, version, day, call)
        if problem:
            problems.append(f"clean-up call event #{position} ({stream}, {day.isoformat()}): {problem}")
    return problems[:MAX_PROBLEMS]


def _call_problem(stream: str, version: int, day, call: CleanUpCallExercised) -> str | None:
    before = list(Event.objects.filter(stream=stream, version__gte=version - len(call.loans), version__lt=version)
                  .order_by("version").values_list("event_type", "effective_date", "payload"))
    if any(kind != PoolLoanRemoved.event_type or on != day for kind, on, _ in before):
        return f"the {len(call.loans)} events before it are not all removals dated {day.isoformat()}"
    removed = [PoolLoanRemoved.from_payload(payload) for _, _, payload in before]
    figures = {
        "loans": (tuple(sorted(r.loan_number for r in removed)), call.loans),
        "price_cents": (sum(r.proceeds_principal_cents for r in removed), call.price_cents),
        "interest_cents": (sum(r.proceeds_interest_cents for r in removed), call.interest_cents),
        "pool_balance_cents": (sum(r.balance_cents for r in removed), call.pool_balance_cents),
    }
    for name, (from_removals, recorded) in figures.items():
        if from_removals != recorded:
            return f"its {name} is {recorded}, its removals' {from_removals}"
    eligibility = CallEligibility(pool_balance_cents=call.pool_balance_cents,
                                  cutoff_balance_cents=call.cutoff_balance_cents, percent=call.percent)
    return eligibility.problem()
