"""The schema, run by schemathesis against the WSGI app, as an investor and as operations staff.

A bounded number of generated requests per operation (CI-sized): no answer
may be a 5xx, and every answer must be documented (status code, content
type) and match its documented schema.
"""
import os

import pytest
import schemathesis
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

pytestmark = pytest.mark.django_db

# Bounded for CI; set API_FUZZ_EXAMPLES higher for a deeper run by hand.
EXAMPLES_PER_OPERATION = int(os.environ.get("API_FUZZ_EXAMPLES", "8"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def in_test_transaction():
    """Requests through the WSGI app must not close the test's connection (as Django's test client arranges)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def run_every_operation(token: str) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)
    headers = {"Authorization": f"Token {token}"}
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        def conforms(case):
            response = case.call(headers=headers)
            case.validate_response(response, checks=CHECKS)

        conforms()


def test_as_an_investor(alice, in_test_transaction):
    run_every_operation(Token.objects.get(user__username="alice").key)


def test_as_operations_staff(olivia, deals, in_test_transaction):
    run_every_operation(Token.objects.get(user__username="olivia").key)
