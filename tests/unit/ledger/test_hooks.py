"""The named points (ledger.hooks) are inert in the application; the fault hook lives in the tests and kills or
pauses only a process started through its launcher."""
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ledger import hooks
from tests.faults import (
    KILL_VARIABLE,
    LOG_VARIABLE,
    PAUSE_DIRECTORY_VARIABLE,
    PAUSE_VARIABLE,
    SEED_VARIABLE,
    FaultPlan,
    launcher,
    without_faults,
)

ROOT = Path(__file__).resolve().parents[3]
DEPLOYED = ("config", "ledger", "servicing", "trusts", "remittance", "api", "analytics", "approvals")


@pytest.fixture
def heard():
    points: list[str] = []
    hooks.install(points.append)
    yield points
    hooks.uninstall(points.append)


def test_a_point_calls_the_hooks_installed_and_nothing_once_they_are_gone(heard):
    hooks.reached("close:started")
    hooks.reached("close:appended")
    assert heard == ["close:started", "close:appended"]
    hooks.uninstall(heard.append)
    hooks.reached("close:committed")
    assert heard == ["close:started", "close:appended"]
    hooks.uninstall(heard.append)  # twice is harmless


def test_no_deployed_module_reads_the_fault_variables_or_imports_the_tests():
    asks = re.compile(r"MBS_FAULT|^\s*(from|import) tests\b")
    found = [f"{path.relative_to(ROOT)}:{number}"
             for app in DEPLOYED for path in sorted((ROOT / app).rglob("*.py"))
             for number, line in enumerate(path.read_text().splitlines(), 1) if asks.search(line)]
    assert found == []
    assert not (ROOT / "ledger" / "faults.py").exists()


def test_a_kill_plan_names_points_with_an_optional_seeded_chance():
    assert FaultPlan(kill_at="close:appended").kills_at("close:appended")
    assert not FaultPlan(kill_at="close:appended").kills_at("close:started")
    assert FaultPlan(kill_at="import:chunk, close:started").kills_at("close:started")
    assert FaultPlan(kill_at="*").kills_at("anything:at-all")
    assert not FaultPlan(kill_at="*@0").kills_at("close:started")
    plan = FaultPlan.from_environment({KILL_VARIABLE: "*@0.5", SEED_VARIABLE: "7"})
    again = FaultPlan.from_environment({KILL_VARIABLE: "*@0.5", SEED_VARIABLE: "7"})
    rolls = [plan.kills_at("import:chunk") for _ in range(40)]
    assert rolls == [again.kills_at("import:chunk") for _ in range(40)]  # the seed replays the trial
    assert True in rolls and False in rolls
    assert not FaultPlan.from_environment({}).active


def test_a_pause_marks_the_point_reached_waits_for_go_and_happens_once(tmp_path):
    plan = FaultPlan.from_environment({PAUSE_VARIABLE: "import:chunk", PAUSE_DIRECTORY_VARIABLE: str(tmp_path),
                                       LOG_VARIABLE: str(tmp_path / "faults.log"), "MBS_FAULT_PAUSE_SECONDS": "5"})
    (tmp_path / "import_chunk.go").touch()  # the test side lets it go at once
    plan("close:started")  # not a pause point
    plan("import:chunk")
    plan("import:chunk")  # a retry in the same process runs through
    assert (tmp_path / "import_chunk.reached").exists()
    assert [line.split()[:2] for line in (tmp_path / "faults.log").read_text().splitlines()] == [
        ["pause", "import:chunk"]]


def test_the_launcher_kills_its_program_at_the_named_point_and_only_there(tmp_path):
    program = "import sys; from ledger.hooks import reached; reached(sys.argv[1]); print('went on', sys.argv[1:])"
    log = tmp_path / "faults.log"
    env = {**without_faults(os.environ), KILL_VARIABLE: "close:appended", LOG_VARIABLE: str(log)}
    killed = subprocess.run([*launcher("-c", program), "close:appended"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert killed.returncode == -signal.SIGKILL and "went on" not in killed.stdout
    assert log.read_text().split()[:2] == ["kill", "close:appended"]
    passed = subprocess.run([*launcher("-c", program), "close:started", "x"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert passed.returncode == 0 and "went on ['close:started', 'x']" in passed.stdout
    # The same variables without the launcher: the application installs nothing and runs through.
    plain = subprocess.run([sys.executable, "-c", program, "close:appended"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=60, check=False)
    assert plain.returncode == 0, plain.stderr
