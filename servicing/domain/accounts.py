"""The ledger accounts servicing posts to, named in one place.

Positive amounts are debits. A loan's principal account carries the unpaid
balance as a debit; its escrow and suspense accounts hold the borrower's
money as credits; interest collected is credited to its interest account,
from which the remittance gathers a period's collections.
"""


def principal(loan_number: str) -> str:
    return f"loan:{loan_number}:principal"


def interest(loan_number: str) -> str:
    return f"loan:{loan_number}:interest"


def escrow(loan_number: str) -> str:
    return f"loan:{loan_number}:escrow"


def escrow_advance(loan_number: str) -> str:
    return f"loan:{loan_number}:escrow_advance"


def suspense(loan_number: str) -> str:
    return f"loan:{loan_number}:suspense"


def late_charges(loan_number: str) -> str:
    return f"loan:{loan_number}:late_charges"


def fees(loan_number: str) -> str:
    return f"loan:{loan_number}:fees"


def realized_loss(loan_number: str) -> str:
    return f"loan:{loan_number}:realized_loss"


def borrower_refund(loan_number: str) -> str:
    return f"loan:{loan_number}:refund"


CUSTODIAL_CASH = "servicer:custodial:cash"  # the P&I and escrow custodial bank account
CORPORATE_CASH = "servicer:corporate:cash"  # the servicer's own money, from which it advances
LATE_CHARGE_INCOME = "servicer:income:late_charges"
FEE_INCOME = "servicer:income:fees"
BOARDING_CLEARING = "clearing:boarding"  # the seller's side of loans boarded from a tape
LIQUIDATION_COSTS = "servicer:liquidation:costs"
ESCROW_PAYEES = "payees:escrow"  # tax collectors and insurers paid from escrow


def deferred_principal(loan_number: str) -> str:
    """The non-interest-bearing balance a deferral or a modification set aside, due at payoff, maturity or sale."""
    return f"loan:{loan_number}:deferred_principal"


def capitalized_interest(loan_number: str) -> str:
    """Interest earned but not received in cash: deferred or capitalized into the loan (credit), collected
    only when the borrower pays the balance it went into."""
    return f"loan:{loan_number}:capitalized_interest"
