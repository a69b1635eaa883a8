"""The remittance read models are folds of the log: emptied and rebuilt, they come back equal, row for row.

PeriodResult, ClassPeriod and Distribution are projections (remittance.projections); TrustPeriod is the
close's workflow state and stays (remittance.models says why). A log written before events were typed
(version 1 payloads, the class under "class") still verifies, replays and rebuilds the same tables.
"""
from datetime import date

import pytest
from django.core.management import call_command

from ledger.models import Event
from ledger.projections import registry
from ledger.verification import verify
from remittance.domain import close_events
from remittance.domain.trust_calendar import Period
from remittance.events import PeriodClosed
from remittance.models import ClassPeriod, Distribution, PeriodResult, PeriodStatus, TrustPeriod
from remittance.services import closing as closing_service
from tests.actors import payment_return
from tests.integration.remittance.months import SEED_LOANS, close, pay, pay_everyone, seed_trust

pytestmark = pytest.mark.django_db
REMITTANCE = "remittance.results"


def _three_months_closed():
    """Three closes of the seed's trust: a missed installment, a return carried into the next close."""
    seed_trust()
    pay_everyone("2026-02")
    close("2026-02")
    pay_everyone("2026-03", loans=SEED_LOANS[1:])  # L001 misses March
    close("2026-03")
    payment_return(loan_number="L002", reference="T-2026-03-L002", returned_on=date(2026, 4, 2), reason="NSF",
                   fee_cents=0)
    pay_everyone("2026-04", loans=SEED_LOANS[2:])
    pay("L001", Period.parse("2026-04"), tag="-late")
    close("2026-04")


def _emptied_and_rebuilt() -> dict:
    projection = registry.get(REMITTANCE)
    before = projection.snapshot()
    projection.clear()
    assert not (PeriodResult.objects.exists() or ClassPeriod.objects.exists() or Distribution.objects.exists())
    call_command("rebuild_projections", projection=[REMITTANCE], stdout=open("/dev/null", "w"))
    return before, projection.snapshot()


def test_the_remittance_read_models_rebuild_equal_from_the_log(loans):
    _three_months_closed()
    assert PeriodResult.objects.count() == 3 and Distribution.objects.count() > 0
    before, after = _emptied_and_rebuilt()
    assert after == before
    assert all(rows for rows in after.values())
    # TrustPeriod is workflow state: not a projection, untouched by the rebuild, and agreeing with the log.
    assert set(TrustPeriod.objects.filter(status=PeriodStatus.CLOSED).values_list("period", flat=True)) == {
        "2026-02", "2026-03", "2026-04"}
    report = verify()
    assert report.ok, report.problems


def _as_the_code_before_typed_events_wrote_it(event):
    """A close event's payload as version 1: no schema_version, the class under "class"."""
    payload = {k: v for k, v in event.payload.items() if k != "schema_version"}
    if "class_name" in payload:
        payload["class"] = payload.pop("class_name")
    if event.event_type == PeriodClosed.event_type:
        payload["classes"] = [{("class" if k == "class_name" else k): v for k, v in c.items()}
                              for c in payload["classes"]]
    return type(event)(event.event_type, payload, event.effective_date, event.postings, event.idempotency_key)


def test_closes_recorded_before_events_were_typed_verify_replay_and_rebuild(loans, monkeypatch):
    typed_appends = close_events.close_appends

    def version_one_appends(context, figures):
        return [type(a)(a.stream, a.expected_version, tuple(_as_the_code_before_typed_events_wrote_it(e)
                                                              for e in a.events))
                for a in typed_appends(context, figures)]

    monkeypatch.setattr(closing_service, "close_appends", version_one_appends)
    _three_months_closed()
    stored = Event.objects.filter(event_type=PeriodClosed.event_type).values_list("payload", flat=True)
    assert stored and all("schema_version" not in p and "class" in p["classes"][0] for p in stored)
    # The read model keeps the payload as recorded and reads it through the class, upcast...
    for result in PeriodResult.objects.all():
        assert "schema_version" not in result.figures
        assert result.period_closed.classes[0].class_name == "A"
    report = verify()  # ...the old hashes verify and the verifier re-derives every close against them...
    assert report.ok, report.problems
    before, after = _emptied_and_rebuilt()  # ...and the old log rebuilds the same tables.
    assert after == before
