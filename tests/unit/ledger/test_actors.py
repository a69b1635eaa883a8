"""Who acts is never optional: every writer of events takes acting_user, and the ledger refuses nobody.

No database here: a missing actor is a TypeError when the call is made, and None
(or anything that is no actor) is refused by the append before it reads or
writes anything (pytest-django would fail a test that touched the database).
"""
import importlib
import inspect
import pkgutil
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser

from ledger import services as ledger_services
from ledger.actors import (
    AGING, AUTOPAY, DEMO, ESCROW_DISBURSEMENT, OPERATOR_COMMAND, RECONCILER, SCHEDULER, ActorRequired, SystemActor,
    require_actor,
)
from ledger.domain.records import StreamAppend
from ledger.services import append, append_batch, transfer
from servicing.services.boarding import tape_board
from servicing.services.autopay import autopay_drafts_post
from servicing.services.payment_files import payment_file_import
from servicing.services.delinquency import loans_age
from servicing.services.escrow import escrow_disburse_due
from tests.actors import TESTS
from tests.integration.ledger.helpers import cash_event
from trusts.services.forming import deal_file_form

DAY = date(2026, 1, 31)

# The writers of events, by module: each must take acting_user keyword-only, with no default.
WRITERS = {
    "ledger.services": ["append", "append_batch", "transfer"],
    "servicing.services.boarding": ["tape_board", "loans_board"],
    "servicing.services.payments": ["payment_post"],
    "servicing.services.payment_returns": ["payment_return"],
    "servicing.services.payment_files": ["payment_file_import"],
    "servicing.services.autopay": ["autopay_drafts_post"],
    "servicing.services.default": ["foreclosure_start", "reo_acquire", "loan_liquidate", "loan_charge_off"],
    "servicing.services.delinquency": ["loans_age", "loan_age"],
    "servicing.services.escrow": ["escrow_item_add", "escrow_disburse_due", "loan_escrow_disburse_due",
                                  "escrow_analysis_run"],
    "trusts.services.forming": ["deal_file_form", "trust_form"],
    "trusts.services.holders": ["holder_details_change"],
    "trusts.services.pool": ["pool_loan_remove"],
    "trusts.services.register": ["holding_transfer"],
    "remittance.services.closing": ["period_close"],
}


def _service_modules():
    for package in ("servicing.services", "trusts.services", "remittance.services"):
        root = importlib.import_module(package)
        for info in pkgutil.iter_modules(root.__path__):
            yield importlib.import_module(f"{package}.{info.name}")
    yield ledger_services


def _acting_user(function) -> inspect.Parameter:
    return inspect.signature(inspect.unwrap(function)).parameters["acting_user"]


@pytest.mark.parametrize("module, name", [(m, n) for m, names in WRITERS.items() for n in names])
def test_every_writer_takes_acting_user_keyword_only_without_a_default(module, name):
    parameter = _acting_user(getattr(importlib.import_module(module), name))
    assert parameter.kind is inspect.Parameter.KEYWORD_ONLY, f"{module}.{name}: acting_user is {parameter.kind}"
    assert parameter.default is inspect.Parameter.empty, f"{module}.{name}: acting_user defaults to {parameter.default!r}"
    assert parameter.annotation == "Actor", f"{module}.{name}: acting_user is typed {parameter.annotation!r}"


def test_no_public_service_lets_the_actor_default():
    """Beyond the list: any public function of the service modules that names acting_user requires it."""
    seen = []
    for module in _service_modules():
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("_") or function.__module__ != module.__name__:
                continue
            parameters = inspect.signature(inspect.unwrap(function)).parameters
            if "acting_user" in parameters:
                seen.append(f"{module.__name__}.{name}")
                assert parameters["acting_user"].default is inspect.Parameter.empty, f"{seen[-1]} defaults the actor"
    assert {f"{m}.{n}" for m, names in WRITERS.items() for n in names} <= set(seen)


@pytest.mark.parametrize("call", [
    lambda: append(stream="loan:L1", expected_version=0, events=[cash_event()]),
    lambda: append_batch(appends=[StreamAppend("loan:L1", 0, (cash_event(),))]),
    lambda: transfer(stream="loan:L1", event_type="Moved", debit="trust:T1:custodial", credit="loan:L1:principal",
                     amount_cents=1, effective_date=DAY),
    lambda: tape_board(raw=b"", boarded_on=DAY),
    lambda: payment_file_import(raw=b""),
    lambda: autopay_drafts_post(as_of=DAY),
    lambda: loans_age(as_of=DAY),
    lambda: escrow_disburse_due(as_of=DAY),
    lambda: deal_file_form(raw=b"{}"),
], ids=["append", "append_batch", "transfer", "tape_board", "payment_file_import", "autopay_drafts_post",
        "loans_age", "escrow_disburse_due", "deal_file_form"])
def test_a_call_without_an_actor_is_a_type_error(call):
    with pytest.raises(TypeError, match="missing 1 required keyword-only argument: 'acting_user'"):
        call()


@pytest.mark.parametrize("nobody, named", [
    (None, "no acting_user was given \\(None\\)"),
    ("scheduler", "must be a user or a ledger.actors.SystemActor, got str 'scheduler'"),
    (AnonymousUser(), "must be a user or a ledger.actors.SystemActor, got AnonymousUser"),
    (7, "got int '7'"),
])
@pytest.mark.parametrize("write", [
    lambda who: append(stream="loan:L1", expected_version=0, events=[cash_event()], acting_user=who),
    lambda who: append_batch(appends=[StreamAppend("loan:L1", 0, (cash_event(),))], acting_user=who),
    lambda who: transfer(stream="loan:L1", event_type="Moved", debit="trust:T1:custodial",
                         credit="loan:L1:principal", amount_cents=1, effective_date=DAY, acting_user=who),
], ids=["append", "append_batch", "transfer"])
def test_the_ledger_refuses_nobody_before_touching_the_database(write, nobody, named):
    with pytest.raises(ActorRequired, match=named):
        write(nobody)


def test_an_actor_refused_is_a_type_error_naming_the_fix():
    with pytest.raises(TypeError, match="SCHEDULER or OPERATOR_COMMAND"):
        require_actor(None)


def test_a_user_without_a_database_row_is_refused():
    unsaved = get_user_model()(username="ghost")
    with pytest.raises(ActorRequired, match="'ghost' has no database row"):
        require_actor(unsaved)


def test_a_saved_user_and_every_named_system_actor_are_actors():
    clerk = get_user_model()(username="clerk", pk=42)
    assert require_actor(clerk) is clerk
    for actor in (SCHEDULER, RECONCILER, DEMO, OPERATOR_COMMAND, AGING, AUTOPAY, ESCROW_DISBURSEMENT, TESTS):
        assert require_actor(actor) is actor
        assert actor.pk is None  # recorded as acting_user_id NULL, as the schedule always was


def test_the_system_actors_have_distinct_names():
    actors = [SCHEDULER, RECONCILER, DEMO, OPERATOR_COMMAND, AGING, AUTOPAY, ESCROW_DISBURSEMENT]
    assert len({a.name for a in actors}) == len(actors)
    assert all(isinstance(a, SystemActor) for a in actors)
