"""Trusts' refusals, each naming what is wrong."""
from collections.abc import Sequence


class TrustError(Exception):
    """A trust action was refused; nothing was recorded."""


class DealRejected(TrustError):
    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        listed = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"deal rejected, nothing formed: {len(self.problems)} problem(s)\n{listed}")
