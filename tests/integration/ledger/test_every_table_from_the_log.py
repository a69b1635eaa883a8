"""The log is the single truth: every table of the project's apps is a fold of it, or says why not.

A table a projection owns is emptied and rebuilt by `rebuild_projections` (and compared with a replay
by `verify_ledger`). The few tables that are not facts of the business are listed here with the
reason; anything else is a table the log cannot rebuild, which is exactly the defect to refuse.
"""
from django.apps import apps

from ledger.projections import registry

PROJECT_APPS = ("ledger", "servicing", "trusts", "remittance", "approvals", "api", "analytics")

NOT_FROM_THE_LOG = {
    "ledger.Event": "the log itself",
    "ledger.Posting": "the log itself (each event's double entry)",
    "ledger.LogPosition": "the append lock's counter: the log's last position, checked by verify_ledger",
    "ledger.AccountBalance": "a view, not a table: each account's slots of AccountBalanceSlot (a projection) summed",
    "ledger.Stream": "an index of each stream's head over the log, checked against it by verify_ledger",
    "approvals.ApprovalRequest": "four-eyes workflow: who asked and who decided; the act it approves is the fact",
    "api.IdempotencyRecord": "the API's replay cache of responses, not a business fact",
    "remittance.TrustPeriod": "the close's workflow state (requested, running, closed); the close's figures "
                              "are facts and are projected into PeriodResult, ClassPeriod and Distribution",
}


def test_every_table_is_rebuilt_from_the_log_or_says_why_not():
    owned = {model._meta.label for projection in registry for model in projection.models}
    unexplained = sorted(
        model._meta.label
        for app in PROJECT_APPS
        for model in apps.get_app_config(app).get_models()
        if model._meta.label not in owned and model._meta.label not in NOT_FROM_THE_LOG
    )
    assert not unexplained, f"tables that no projection rebuilds from the log: {unexplained}"


def test_the_exceptions_are_not_projections_too():
    owned = {model._meta.label for projection in registry for model in projection.models}
    assert not owned & set(NOT_FROM_THE_LOG)
