"""`project_deal --tape`: a PAC schedule for a deal file from the pool's loan tape, before the trust exists, the
same as the trust formed from that tape gives (docs/deals/agency-pac-2026-1.json's PA was built by --trust)."""
import io
import json
from datetime import date
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from analytics.domain.loan_replines import tape_replines
from analytics.domain.pac_schedule import deal_file_features, pac_schedule
from analytics.selectors import trust_deal
from servicing.domain.loan_tape import parse_tape
from tests.integration.trusts.deals import form
from tests.integration.trusts.test_forming_structured import AGENCY, DEALS, boarded, example  # noqa: F401

TAPE = str(DEALS / f"{AGENCY}-tape.csv")


def run(*args) -> str:
    out = io.StringIO()
    call_command("project_deal", *args, stdout=out)
    return out.getvalue()


def test_the_tape_gives_the_deal_files_pac_schedule_exactly():
    printed = json.loads(run("--tape", TAPE, "--cutoff", "2026-01-15", "--pac-schedule", "90,300",
                             "--face", "1800000.00"))
    [pa] = [c for c in example(AGENCY)["classes"] if c["name"] == "PA"]
    assert printed == {"kind": pa["kind"], "band": pa["band"], "face": pa["face"], "schedule": pa["schedule"]}
    assert printed["schedule"][-1] == "0.00"


@pytest.mark.django_db
def test_a_tapes_replines_are_those_of_the_trust_formed_from_it(boarded):  # noqa: F811
    trust = form(example(AGENCY))
    deal, _period = trust_deal(trust.code)
    rows, problems = parse_tape((DEALS / f"{AGENCY}-tape.csv").read_bytes())
    assert not problems
    assert sorted(tape_replines(rows, trust.cutoff_date), key=lambda r: r.name) == sorted(deal.replines,
                                                                                         key=lambda r: r.name)


def test_loans_picks_rows_of_the_tape():
    printed = json.loads(run("--tape", TAPE, "--cutoff", "2026-01-15", "--pac-schedule", "90,300",
                             "--loans", "L101, L102,L101"))
    rows, _ = parse_tape(Path(TAPE).read_bytes())
    two = tape_replines(rows, date(2026, 1, 15), ["L101", "L102"])
    assert [r.name for r in two] == ["L101", "L102"]
    assert printed == deal_file_features(pac_schedule(two, (90, 300)))
    everything = json.loads(run("--tape", TAPE, "--cutoff", "2026-01-15", "--pac-schedule", "90,300"))
    assert 0 < float(printed["face"]) < float(everything["face"])


def bad_tape(tmp_path, line: int, column: str, value: str) -> str:
    lines = Path(TAPE).read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[line - 1].split(",")
    cells[header.index(column)] = value
    lines[line - 1] = ",".join(cells)
    path = tmp_path / "tape.csv"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_a_bad_tape_is_refused_naming_each_row_and_field(tmp_path):
    path = bad_tape(tmp_path, 3, "note_rate", "six")
    with pytest.raises(CommandError) as refused:
        run("--tape", path, "--cutoff", "2026-01-15", "--pac-schedule", "90,300")
    assert str(refused.value) == ("--tape: 1 bad row(s), no schedule built\n"
                                  "  line 3: note_rate 'six' is not a percentage like 6.125")


@pytest.mark.parametrize(("args", "message"), [
    (["--loans", "L101,L999,L998"], "--loans: L999, L998 are not on the tape"),
    (["--loans", "L777"], "--loans: L777 is not on the tape"),
    (["--loans", ","], "--loans names no loan"),
    (["--cutoff", None], "--cutoff YYYY-MM-DD is required with --tape"),
    (["--cutoff", "15/01/2026"], "--cutoff: '15/01/2026' is not a date"),
    (["--cutoff", "2056-01-15"], "no loan has anything left to pay after the cut-off 2056-01-15"),
    (["--pac-schedule", None], "--tape, --loans and --cutoff go with --pac-schedule"),
    (["--face", "9000000"], "above what the 90-300 PSA band"),
])
def test_bad_tape_options_are_command_errors_naming_the_option(args, message):
    options = {"--tape": TAPE, "--cutoff": "2026-01-15", "--pac-schedule": "90,300"}
    options[args[0]] = args[1]
    argv = [part for name, value in options.items() if value is not None for part in (name, value)]
    with pytest.raises(CommandError, match=message.replace("(", r"\(")):
        run(*argv)


def test_a_tape_that_cannot_be_read_and_options_without_a_tape_are_refused(tmp_path):
    with pytest.raises(CommandError, match="cannot read .*missing.csv"):
        run("--tape", str(tmp_path / "missing.csv"), "--cutoff", "2026-01-15", "--pac-schedule", "90,300")
    with pytest.raises(CommandError, match="--loans and --cutoff go with --tape"):
        run("--textbook", "FJF-04", "--pac-schedule", "90,300", "--cutoff", "2026-01-15")
