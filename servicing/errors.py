"""Servicing's refusals, each naming the loan and the reason."""
from collections.abc import Sequence
from dataclasses import dataclass


class ServicingError(Exception):
    """A servicing action was refused; nothing was recorded."""


class DateRefused(ServicingError):
    """A dated fact on a loan whose date the books cannot take (future, before boarding, before a cut-off...)."""


class UnknownLoan(ServicingError):
    def __init__(self, loan_number: str):
        super().__init__(f"loan {loan_number} is not boarded")


class LoanClosed(ServicingError):
    def __init__(self, loan_number: str, status: str):
        super().__init__(f"loan {loan_number} is {status.replace('_', ' ')}; it takes no more payments")


class FileRejected(ServicingError):
    """A tape or payment file with bad rows: nothing in it was recorded."""

    def __init__(self, kind: str, problems: Sequence):
        self.problems = list(problems)
        listed = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{kind} rejected, nothing recorded: {len(self.problems)} bad row(s)\n{listed}")


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A bad row of an input file: its line number (the header is line 1) and why."""

    line: int
    reason: str

    def __str__(self):
        return f"line {self.line}: {self.reason}"
