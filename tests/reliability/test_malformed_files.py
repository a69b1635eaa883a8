"""Bad input: malformed loan tapes, payment files and deal files are refused clearly, and change nothing.

The three services' contract is all or nothing (see their docstrings):
`tape_board` boards every loan or none, `payment_file_import` posts every
row or none, `deal_file_form` forms the whole trust or nothing; each refusal
is one FileRejected / DealRejected listing every problem. So for every
generated file (tests/reliability/malformed.py: a valid file, then one or
more corruptions) this checks:

- a file with a corruption that makes it wrong is refused with the service's
  own error, naming the problem where it is (the line, and the column; for a
  deal, the key), each problem short enough to read;
- a refused file changed nothing: every row of the ledger's, servicing's,
  trusts' and remittance's tables (events, postings, balances, loans,
  positions, trusts, holdings...) is the same before and after;
- a file whose corruption leaves its meaning alone (a BOM, CRLF or CR line
  endings) or only carries inert text (an apostrophe, `<script>`) is accepted:
  exactly its rows recorded, the text stored byte for byte, `verify()` clean;
- nothing else is ever raised (a crash fails the test, hypothesis shrinks it).

Each example runs in a savepoint rolled back at its end, so every example
starts from the same books. The management commands are run on generated
files too: a refusal is a CommandError, never a traceback. Outcomes are
counted by corruption kind and recorded in the figures.
"""
from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from datetime import date

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from hypothesis import HealthCheck, given, settings

from ledger.models import Event
from ledger.verification import verify
from servicing.errors import FileRejected
from servicing.models import Loan
from servicing.services.boarding import tape_board
from servicing.services.payment_files import payment_file_import
from tests.integration.servicing.tapes import board, seed_rows
from tests.reliability import malformed
from tests.reliability.malformed import Case, malformed_deals, malformed_payment_files, malformed_tapes
from tests.soak import SOAK, trials
from trusts.errors import DealRejected
from trusts.models import Trust
from trusts.services.forming import deal_file_form

pytestmark = [pytest.mark.django_db, pytest.mark.soak]

BOARDED_ON = date(2026, 1, 15)
TODAY = date(2026, 3, 1)  # payment files are dated February 2026
WRITERS = ("ledger", "servicing", "trusts", "remittance")
LONGEST_PROBLEM = 500  # characters: a problem quotes a bad value, it does not copy out 200,000 of them


def books() -> dict[str, str]:
    """A fingerprint of every row every writer owns: a refused file must leave each table as it was."""
    prints = {}
    for app in WRITERS:
        for model in apps.get_app_config(app).get_models():
            rows = list(model.objects.order_by("pk").values_list())
            prints[model._meta.label] = f"{len(rows)}:{hashlib.sha256(repr(rows).encode()).hexdigest()}"
    return prints


class Tally:
    """Outcomes counted as the examples run, for the figures."""

    def __init__(self):
        self.examples = self.refused = self.accepted = self.crashes = self.half_written = 0
        self.by_corruption: Counter = Counter()
        self.refused_by: Counter = Counter()
        self.started = time.monotonic()

    def figures(self, what: str) -> dict:
        return dict(examples=self.examples, refused_with_clear_error=self.refused, accepted_as_meant=self.accepted,
                    crashes=self.crashes, half_written=self.half_written, by_corruption=dict(sorted(
                        self.by_corruption.items())), seconds=round(time.monotonic() - self.started, 1))


def _problems_meet_claims(case: Case, problems: list) -> None:
    """Every claim the parser reaches is met by a problem at its place that names it."""
    claims, all_needed = case.expected_claims()
    met = [any(_meets(claim, p) for p in problems) for claim in claims]
    shown = "\n".join(str(p) for p in problems)
    assert (all(met) if all_needed else any(met)), f"{case.corruptions}: claims {claims} not met by:\n{shown}"
    for problem in problems:
        assert len(str(problem)) <= LONGEST_PROBLEM, f"a problem too long to read: {str(problem)[:200]}..."


def _meets(claim, problem) -> bool:
    if isinstance(problem, str):  # a deal file's problem: "where: what"
        return problem.startswith(claim.where) and claim.word in problem.lower()
    return problem.line == claim.where and claim.word in problem.reason.lower()


def _refusal(case: Case):
    if case.kind == "loan tape":
        return FileRejected, lambda: tape_board(raw=case.raw, boarded_on=BOARDED_ON)
    if case.kind == "payment file":
        return FileRejected, lambda: payment_file_import(raw=case.raw, today=TODAY)
    return DealRejected, lambda: deal_file_form(raw=case.raw)


def check(case: Case, tally: Tally) -> None:
    """Run the service on the case in a savepoint rolled back afterwards; hold it to the contract."""
    error_type, run = _refusal(case)
    tally.examples += 1
    tally.by_corruption.update(set(case.corruptions))
    try:
        with transaction.atomic():
            before = books()
            try:
                result = run()
            except error_type as refused:
                unchanged = books() == before
                tally.half_written += not unchanged
                assert unchanged, f"{case.corruptions}: a refused file changed the books"
                assert case.refused, f"{case.corruptions}: refused a file meant to be accepted: {refused}"
                _problems_meet_claims(case, refused.problems)
                tally.refused += 1
            else:
                assert not case.refused, f"{case.corruptions}: accepted a file meant to be refused ({case.claims})"
                _accepted_as_meant(case, result, before)
                tally.accepted += 1
            transaction.set_rollback(True)
    except AssertionError:
        raise
    except Exception:
        tally.crashes += 1
        raise


def _accepted_as_meant(case: Case, result, before: dict) -> None:
    if case.kind == "loan tape":
        assert result.boarded == [row["loan_number"] for row in case.rows]
        for loan_number, text in case.verbatim:
            loan = Loan.objects.select_related("borrower", "property").get(loan_number=loan_number)
            assert text in (loan.borrower.name, loan.property.address)
    elif case.kind == "payment file":
        assert [r.reference for r in result.posted] == [row["reference"] for row in case.rows]
        for reference, text in case.verbatim:
            assert Event.objects.get(idempotency_key=f"payment:{reference}").payload["reference"] == text
    else:
        trust = Trust.objects.get(code="MAL-1")
        assert trust == result and trust.pool.count() == len(case.rows[0]["loans"])
        for key, text in case.verbatim:
            assert getattr(trust, key) == text
    assert books() != before and verify().ok


SETTINGS = settings(
    max_examples=trials(40, 300), deadline=None, database=None, derandomize=not SOAK,  # the same examples in every CI run; new ones under make soak
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.large_base_example],
)


def _fuzz(strategy, what: str, figures) -> Tally:
    tally = Tally()

    @SETTINGS
    @given(case=strategy)
    def run(case):
        check(case, tally)

    try:
        run()
    finally:
        figures.record(what, **tally.figures(what))
    assert tally.crashes == 0 and tally.half_written == 0 and tally.refused > 0
    return tally


def test_malformed_loan_tapes_are_refused_clearly_and_board_nothing(figures):
    _fuzz(malformed_tapes(), "malformed loan tapes", figures)


def test_malformed_payment_files_are_refused_clearly_and_post_nothing(figures):
    board(*seed_rows(3), boarded_on=BOARDED_ON)
    _fuzz(malformed_payment_files(loans=3), "malformed payment files", figures)


def test_malformed_deal_files_are_refused_clearly_and_form_nothing(figures):
    board(*seed_rows(10), boarded_on=BOARDED_ON)
    _fuzz(malformed_deals(), "malformed deal files", figures)


# --- One of each, deterministically ------------------------------------------------------------------------

from tests.reliability.regressions import DEAL_CASES, PAYMENT_CASES, TAPE_CASES  # noqa: E402


@pytest.mark.parametrize("case", TAPE_CASES, ids=lambda c: c.corruptions[0])
def test_each_loan_tape_corruption(case):
    check(case, Tally())


@pytest.mark.parametrize("case", PAYMENT_CASES, ids=lambda c: c.corruptions[0])
def test_each_payment_file_corruption(case):
    board(*seed_rows(3), boarded_on=BOARDED_ON)
    check(case, Tally())


@pytest.mark.parametrize("case", DEAL_CASES, ids=lambda c: c.corruptions[0])
def test_each_deal_file_corruption(case):
    board(*seed_rows(10), boarded_on=BOARDED_ON)
    check(case, Tally())


# --- The management commands -------------------------------------------------------------------------------

COMMANDS = {"loan tape": ("board_loans", TAPE_CASES), "payment file": ("import_payments", PAYMENT_CASES),
            "deal file": ("form_trust", DEAL_CASES)}


@pytest.mark.parametrize("kind", sorted(COMMANDS))
def test_the_commands_answer_a_bad_file_with_a_command_error(kind, tmp_path, figures):
    """Every refused regression file through its command: a CommandError naming the problem, the books unchanged."""
    board(*seed_rows(10), boarded_on=BOARDED_ON)
    command, cases = COMMANDS[kind]
    refused = [c for c in cases if c.refused]
    answered = 0
    for i, case in enumerate(refused):
        path = tmp_path / f"{i}.bin"
        path.write_bytes(case.raw)
        before = books()
        with pytest.raises(CommandError) as error:
            call_command(command, str(path))
        assert "rejected" in str(error.value) and books() == before, case.corruptions
        claims, _ = case.expected_claims()
        assert any(c.word in str(error.value).lower() for c in claims), (case.corruptions, str(error.value)[:500])
        answered += 1
    figures.record(f"{command} on malformed files", files=len(refused), command_errors=answered, tracebacks=0)


def test_the_regression_table_covers_every_corruption_kind():
    kinds = set(malformed.CSV_CORRUPTIONS) | set(malformed.WHOLE_FILE)
    for cases in (TAPE_CASES, PAYMENT_CASES):
        assert kinds <= {k for c in cases for k in c.corruptions}
    assert set(malformed.DEAL_CORRUPTIONS) | set(malformed.WHOLE_FILE) <= {k for c in DEAL_CASES for k in c.corruptions}
    assert json.loads(json.dumps([c.corruptions for c in DEAL_CASES]))
