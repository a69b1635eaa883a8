"""Autopay drafts: one installment per due loan, never twice; eagerly and through a real worker."""
from datetime import date

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from config.celery import app
from ledger.models import Event
from servicing.models import LoanPosition
from servicing.services.autopay import autopay_drafts_post
from servicing.tasks.autopay import post_autopay_drafts
from tests.integration.servicing.tapes import SEED_ROW, board

FEB1 = date(2026, 2, 1)


def board_autopay_loans():
    board({**SEED_ROW, "loan_number": "A1", "autopay": "true"}, {**SEED_ROW, "loan_number": "A2", "autopay": "true"},
          {**SEED_ROW, "loan_number": "M1", "autopay": "false"})


def drafts():
    return sorted(Event.objects.filter(idempotency_key__startswith="payment:autopay:")
                  .values_list("idempotency_key", flat=True))


@pytest.mark.django_db
def test_drafts_one_installment_from_each_due_autopay_loan_once():
    board_autopay_loans()
    assert autopay_drafts_post(as_of=date(2026, 1, 31)).posted == []
    result = autopay_drafts_post(as_of=FEB1)
    assert result.posted == ["autopay:A1:2026-02-01", "autopay:A2:2026-02-01"] and result.failed == []
    event = Event.objects.get(idempotency_key="payment:autopay:A1:2026-02-01")
    assert event.payload["amount_cents"] == 84_955 and event.payload["application"]["installments_paid"] == 1
    again = autopay_drafts_post(as_of=FEB1)
    assert again.posted == [] and drafts() == ["payment:autopay:A1:2026-02-01", "payment:autopay:A2:2026-02-01"]
    assert LoanPosition.objects.get(loan_id="M1").stream_version == 1


@pytest.mark.django_db
def test_a_loan_behind_is_drafted_one_installment_a_day():
    board_autopay_loans()
    april = date(2026, 4, 1)
    assert autopay_drafts_post(as_of=april).posted == ["autopay:A1:2026-02-01", "autopay:A2:2026-02-01"]
    assert autopay_drafts_post(as_of=april).posted == []  # same day: nothing twice
    assert autopay_drafts_post(as_of=date(2026, 4, 2)).posted == ["autopay:A1:2026-03-01", "autopay:A2:2026-03-01"]


@pytest.mark.django_db
def test_the_task_runs_the_service_eagerly():
    board_autopay_loans()
    result = post_autopay_drafts.apply(args=("2026-02-01",)).get()
    assert result["posted"] == ["autopay:A1:2026-02-01", "autopay:A2:2026-02-01"]
    assert post_autopay_drafts.apply(args=("2026-02-01",)).get()["posted"] == []
    assert post_autopay_drafts.name == "servicing.post_autopay_drafts"


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_task_runs_on_a_real_worker():
    assert not settings.CELERY_TASK_ALWAYS_EAGER, "make test runs against the real Redis broker"
    board_autopay_loans()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        first = post_autopay_drafts.delay("2026-02-01").get(timeout=60)
        second = post_autopay_drafts.delay("2026-02-01").get(timeout=60)
    assert first["posted"] == ["autopay:A1:2026-02-01", "autopay:A2:2026-02-01"] and second["posted"] == []
    assert len(drafts()) == 2
