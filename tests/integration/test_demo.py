"""`make demo` runs the demo command: it must keep working and keep the seed's figures."""
import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_demo_runs_end_to_end_and_the_ledger_verifies(capsys):
    call_command("demo")
    out = capsys.readouterr().out
    assert "boarded 10 loans; level payment 599.55 + escrow 250.00; re-running the tape boards 0 more" in out
    assert "2026-02     5,000.00        995.50" in out  # the seed's month 1: interest and principal
    assert "L004  liquidated" in out
    assert "no problems" in out
