"""The pool's cut-off balances still what the ledger says, for `verify_ledger` (registered in TrustsConfig.ready).

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
"""
from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Max

from ledger.models import Event, Posting
from ledger.selectors import account_balance
from servicing.domain import accounts
from trusts.events import PoolLoansTransferred
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
