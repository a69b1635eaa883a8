"""The schema, run by schemathesis against the WSGI app, as every role the API knows.

The roles: an investor (Alice, INV-01), operations staff (Olivia), an approver
(Arthur: a staff group the API gives no role), a login with no role (Nora)
and an anonymous caller. For each, every operation of the schema gets
generated requests (EXAMPLES, sized by `trials`: 8 or 3 in CI, up to 100
under `make soak`), and every answer must be no 5xx, documented (status
code, content type) and match its documented schema. For every role but operations, every answer is also
searched for what the caller may not see (tests.api.leaks: other holders,
deals it never held and their loans, other holders' row ids).

The cases are counted as they run, per role, with the operations that
failed; a failing operation does not stop the others, so the figure says how
many failed. Stateful runs (OpenAPI links) are not used: drf-spectacular
writes no links, and the ids worth chaining are probed by
test_cross_investor instead.
"""
import pytest
import schemathesis
from django.contrib.auth.models import User
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from tests.api.leaks import Sight
from tests.soak import SOAK, trials

pytestmark = [pytest.mark.django_db, pytest.mark.soak]

# Generated requests per operation, by role: the callers who see least answer 401/403/404 to nearly
# everything, so they get fewer. CI: 8 (3); soak: an investor 100, operations 50, the others 20.
EXAMPLES = {"investor": trials(8, 100), "operations": trials(8, 50), "approver": trials(3, 20),
            "no role": trials(3, 20), "anonymous": trials(3, 20)}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def in_test_transaction():
    """Requests through the WSGI app must not close the test's connection (as Django's test client arranges)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


class Leaked(AssertionError):
    """An answer held something the caller may not see."""


def run_every_operation(username: str | None, role: str) -> dict:
    """Every operation under generated requests as `username` (None: anonymous); the cases run and what failed."""
    user = User.objects.get(username=username) if username else None
    headers = {"Authorization": f"Token {Token.objects.get(user=user).key}"} if user else {}
    sight = Sight.of(user, username or "anonymous")
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)
    run = {"operations": 0, "cases": 0, "failures": []}
    for result in schema.get_all_operations():
        operation = result.ok()
        run["operations"] += 1
        try:
            _fuzz(operation, headers, sight, run, EXAMPLES[role])
        except Exception as failure:  # noqa: BLE001 - counted and reported together, after every operation ran
            run["failures"].append(f"{operation.method.upper()} {operation.path}: {failure}")
    return run


def _fuzz(operation, headers: dict, sight: Sight, run: dict, examples: int) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=examples, deadline=None, derandomize=not SOAK, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def conforms(case):
        run["cases"] += 1
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS)
        leaks = sight.leaks(case.formatted_path, response.text_lossy())
        if leaks:
            raise Leaked(f"{sight.who} was shown {leaks} by {case.method} {case.formatted_path}")

    conforms()


def _report(figures, role: str, run: dict) -> None:
    figures.record("schemathesis", role=role, operations=run["operations"], cases=run["cases"],
                   failures=len(run["failures"]), examples_per_operation=EXAMPLES[role])
    assert run["operations"] > 0 and run["cases"] >= run["operations"], run
    assert not run["failures"], "\n".join(run["failures"])


def test_as_an_investor(alice, carol, in_test_transaction, figures):
    _report(figures, "investor", run_every_operation("alice", "investor"))


def test_as_operations_staff(olivia, deals, in_test_transaction, figures):
    _report(figures, "operations", run_every_operation("olivia", "operations"))


def test_as_an_approver(arthur, deals, in_test_transaction, figures):
    _report(figures, "approver", run_every_operation("arthur", "approver"))


def test_as_a_login_without_a_role(nora, deals, in_test_transaction, figures):
    _report(figures, "no role", run_every_operation("nora", "no role"))


def test_as_an_anonymous_caller(deals, in_test_transaction, figures):
    _report(figures, "anonymous", run_every_operation(None, "anonymous"))
