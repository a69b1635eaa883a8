"""Reads of servicing state: positions, their agreement with the ledger, and the default-servicing states."""
from __future__ import annotations

from django.db.models import Q, Sum

from ledger.models import Posting
from servicing.domain.default_states import DefaultState
from servicing.models import LoanPosition


def loan_positions_match_ledger() -> list[str]:
    """Each loan's unpaid balance in the read model equals its principal account in the ledger."""
    ledger = {
        row["account"].split(":")[1]: row["total"]
        for row in Posting.objects.filter(account__startswith="loan:", account__endswith=":principal")
        .values("account").annotate(total=Sum("amount_cents"))
    }
    problems = []
    for loan_id, upb in LoanPosition.objects.values_list("loan_id", "principal_balance_cents").order_by("loan_id"):
        if ledger.get(loan_id, 0) != upb:
            problems.append(
                f"loan {loan_id}: unpaid balance {upb} in its position differs from {ledger.get(loan_id, 0)} "
                "in the ledger's principal account"
            )
    return problems[:1] + ([f"... and {len(problems) - 1} more loans"] if len(problems) > 1 else [])


def default_state_filter(state: DefaultState, prefix: str = "") -> Q:
    """The positions in a default-servicing state, as a filter (`prefix` "position__" from Loan): the same
    table `servicing.domain.default_states.default_servicing` reads, so both always agree."""
    return Q(**{f"{prefix}{state.field}": state.value})
