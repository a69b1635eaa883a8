"""A borrower's bankruptcy cases and the automatic stay: the rules, pure (no Django, no database).

A case is filed under chapter 7 (liquidation: the debtor's personal liability
is discharged, usually within months, and the lien survives) or chapter 13
(a repayment plan of three to five years, confirmed by the court, during
which the borrower keeps paying the ongoing installments). Filing stays every
act to collect the debt (11 U.S.C. 362): the stay arises on the filing date and
lasts until the case is discharged or dismissed, or until the court grants the
servicer relief from the stay (the case itself stays open).

`Cases` is the history of a loan's cases, built one fact at a time; each step
refuses what the books cannot take (a second open case, an end without an open
case, a date before the case's last step), raising `BankruptcyRefused` with the
reason. The service and the verifier step through the same rules.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

CHAPTER_7, CHAPTER_13 = 7, 13
CHAPTERS: tuple[int, ...] = (CHAPTER_7, CHAPTER_13)
DISCHARGED, DISMISSED = "discharged", "dismissed"


class BankruptcyRefused(ValueError):
    """A bankruptcy fact the loan's cases do not allow; the message says why."""


@dataclass(frozen=True, slots=True)
class Case:
    """One bankruptcy case: filed, maybe a plan confirmed (chapter 13) and relief granted, maybe ended."""

    case_number: str
    chapter: int
    court: str
    filed_on: date
    plan_confirmed_on: date | None = None
    relief_granted_on: date | None = None
    ended_on: date | None = None
    outcome: str = ""  # DISCHARGED or DISMISSED once ended

    @property
    def is_open(self) -> bool:
        return self.ended_on is None

    @property
    def last_step_on(self) -> date:
        return max(d for d in (self.filed_on, self.plan_confirmed_on, self.relief_granted_on, self.ended_on) if d)

    def stays(self, day: date) -> bool:
        """Whether this case's automatic stay is in effect on `day`: from the filing, until relief or the end."""
        lifted = min((d for d in (self.relief_granted_on, self.ended_on) if d), default=None)
        return self.filed_on <= day and (lifted is None or day < lifted)

    def describe(self) -> str:
        return f"bankruptcy case {self.case_number} (chapter {self.chapter}, filed {self.filed_on.isoformat()})"


@dataclass(frozen=True, slots=True)
class Cases:
    """A loan's bankruptcy cases in the order they were filed."""

    cases: tuple[Case, ...] = ()

    @property
    def open_case(self) -> Case | None:
        return next((c for c in self.cases if c.is_open), None)

    def stay_on(self, day: date) -> Case | None:
        """The case whose automatic stay is in effect on `day`, or None."""
        return next((c for c in self.cases if c.stays(day)), None)

    def filed(self, *, case_number: str, chapter: int, court: str, filed_on: date) -> Cases:
        if chapter not in CHAPTERS:
            raise BankruptcyRefused(f"chapter {chapter!r} is not one we service (chapter 7 or 13)")
        if not case_number.strip() or not court.strip():
            raise BankruptcyRefused("a bankruptcy filing needs its case number and its court")
        open_case = self.open_case
        if open_case is not None:
            raise BankruptcyRefused(f"{open_case.describe()} is still open; a second case cannot be filed "
                                    f"on {filed_on.isoformat()} until it is discharged or dismissed")
        if any(c.case_number == case_number for c in self.cases):
            raise BankruptcyRefused(f"bankruptcy case {case_number} was recorded on this loan before")
        if self.cases and filed_on < self.cases[-1].last_step_on:
            raise BankruptcyRefused(f"a filing on {filed_on.isoformat()} is before the previous case ended on "
                                    f"{self.cases[-1].last_step_on.isoformat()}")
        return Cases((*self.cases, Case(case_number, chapter, court, filed_on)))

    def plan_confirmed(self, *, case_number: str, on: date) -> Cases:
        case = self._open(case_number, "confirm a plan", on)
        if case.chapter != CHAPTER_13:
            raise BankruptcyRefused(f"{case.describe()} is a chapter {case.chapter} case; only chapter 13 has a plan")
        if case.plan_confirmed_on is not None:
            raise BankruptcyRefused(f"the plan of {case.describe()} was confirmed on "
                                    f"{case.plan_confirmed_on.isoformat()} already")
        return self._with(replace(case, plan_confirmed_on=on))

    def relief_granted(self, *, case_number: str, on: date) -> Cases:
        case = self._open(case_number, "grant relief from the stay", on)
        if case.relief_granted_on is not None:
            raise BankruptcyRefused(f"relief from the stay of {case.describe()} was granted on "
                                    f"{case.relief_granted_on.isoformat()} already")
        return self._with(replace(case, relief_granted_on=on))

    def ended(self, *, case_number: str, outcome: str, on: date) -> Cases:
        if outcome not in (DISCHARGED, DISMISSED):
            raise BankruptcyRefused(f"a case ends discharged or dismissed, not {outcome!r}")
        verb = "discharge" if outcome == DISCHARGED else "dismiss"
        case = self._open(case_number, verb, on)
        return self._with(replace(case, ended_on=on, outcome=outcome))

    def _open(self, case_number: str, action: str, on: date) -> Case:
        """The open case named `case_number`, and `on` not before its last step; else refused."""
        case = self.open_case
        if case is None:
            raise BankruptcyRefused(f"cannot {action} on {on.isoformat()}: the loan has no open bankruptcy case")
        if case.case_number != case_number:
            raise BankruptcyRefused(f"cannot {action} in case {case_number}: the open case is {case.describe()}")
        if on < case.last_step_on:
            what = "filed" if case.last_step_on == case.filed_on else "last moved"
            raise BankruptcyRefused(f"cannot {action} on {on.isoformat()}: {case.describe()} was {what} on "
                                    f"{case.last_step_on.isoformat()}, after it")
        return case

    def _with(self, case: Case) -> Cases:
        return Cases(tuple(case if c.case_number == case.case_number else c for c in self.cases))
