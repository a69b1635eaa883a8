"""close_period: one trust or all of them, now or enqueued, and refusals as command errors."""
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_celery_beat.models import PeriodicTask

from config.celery import app
from remittance.models import PeriodResult
from tests.integration.remittance.months import pay_everyone, seed_trust

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("close_period", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_closing_one_trust_prints_its_summary(loans):
    seed_trust()
    pay_everyone("2026-02")
    out = run("--trust", "XYZ-2026-1", "--period", "2026-02", "--as-of", "2026-03-01")
    assert "XYZ-2026-1 2026-02 closed: record date 2026-02-27, paid 2026-03-25" in out
    assert "servicing fee 500.00  issuer spread 500.00" in out
    assert "paid to 10 holders 4,995.50; reconciled: in 5,995.50 = out 5,995.50" in out


def test_a_refused_close_is_a_command_error_naming_the_reason(loans):
    seed_trust()
    run("--trust", "XYZ-2026-1", "--period", "2026-02", "--as-of", "2026-03-01")
    with pytest.raises(CommandError, match="XYZ-2026-1 2026-02 is already closed"):
        run("--trust", "XYZ-2026-1", "--period", "2026-02", "--as-of", "2026-03-01")
    with pytest.raises(CommandError, match="is not a period"):
        run("--trust", "XYZ-2026-1", "--period", "Feb", "--as-of", "2026-03-01")


def test_all_closes_every_trust_due_and_async_enqueues(loans):
    seed_trust()
    assert "closed" in run("--all", "--period", "2026-02", "--as-of", "2026-03-01")
    assert run("--all", "--period", "2026-02") == "no trust has 2026-02 open\n"
    # Enqueued: run here eagerly, as `make demo` does, so no message outlives the test.
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        out = run("--trust", "XYZ-2026-1", "--period", "2026-03", "--async", "--as-of", "2026-04-01")
    finally:
        app.conf.task_always_eager = eager
    assert "XYZ-2026-1 2026-03: enqueued as task" in out
    assert PeriodResult.objects.filter(period="2026-03").exists()


def test_the_month_end_close_is_scheduled_in_the_database():
    task = PeriodicTask.objects.get(name="Month-end close of every trust")
    assert task.task == "remittance.month_end_close" and task.enabled
    assert (task.crontab.day_of_month, task.crontab.hour) == ("2", "3")
