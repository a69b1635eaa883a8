"""project_deal: a textbook deal or a trust across PSA speeds, the PAC band test, and a PAC schedule for a deal file."""
import io
import json

import pytest
from django.core.management import CommandError, call_command

from analytics.domain.pac_schedule import deal_file_features, pac_schedule
from analytics.domain.textbook_deals import PAC_BAND, PAC_FACE_CENTS, collateral
from analytics.selectors import next_open_period, trust_deal
from remittance.selectors.period_facts import pool_original_cents
from tests.integration.remittance.months import seed_trust
from tests.integration.trusts.deals import TRUST
from trusts.models import Trust
from trusts.selectors import deal_structure


def run(*args) -> str:
    out = io.StringIO()
    call_command("project_deal", *args, stdout=out)
    return out.getvalue()


def test_a_textbook_deal_prints_a_table_per_class_and_its_pacs_band_test():
    text = run("--textbook", "FJF-04", "--psa", "50,90,165,300,400")
    assert "class P" in text and "class S" in text
    assert "band test, PAC P (90-300 PSA): flat inside, varies outside" in text
    inside = [line.split() for line in text.splitlines() if line.strip().startswith("inside")]
    assert [row[1] for row in inside] == ["90", "165", "300"] and {row[2] for row in inside} == {"7.26"}


def test_a_class_may_have_a_price_of_its_own():
    text = run("--textbook", "FJF-01", "--psa", "165", "--price", "D=95")
    yields = {block.split()[0]: block.split()[-1] for block in text.split("\n\nclass ")[1:]}
    assert yields["A"] == "7.618" and float(yields["D"]) > 7.618


def test_the_default_speeds_run_from_0_to_500_psa():
    text = run("--textbook", "FJF-01")
    rows = text.split("class A")[1].split("class B")[0].strip().splitlines()[1:]
    assert [r.split()[0] for r in rows] == ["0", "50", "90", "100", "165", "200", "300", "400", "500"]


def test_a_pac_schedule_is_printed_as_a_deal_files_class_takes_it():
    data = json.loads(run("--textbook", "FJF-01", "--pac-schedule", "90,300", "--face", "243800000"))
    assert data["kind"] == "pac" and data["band"] == ["90", "300"] and data["face"] == "243800000.00"
    built = pac_schedule((collateral(),), PAC_BAND, face_cents=PAC_FACE_CENTS)
    assert data == deal_file_features(built) and data["schedule"][-1] == "0.00"


@pytest.mark.django_db
def test_a_trust_is_projected_with_its_structure_from_its_next_period(loans):
    seed_trust()
    trust = Trust.objects.get(code=TRUST)
    deal, period = trust_deal(TRUST)
    assert period == next_open_period(trust) and deal.structure.first_period_number == 1
    assert deal.structure.deal == deal_structure(trust)
    assert deal.structure.cutoff_balance_cents == pool_original_cents(trust) == 1_000_000_00
    text = run("--trust", TRUST, "--psa", "100,300")
    assert "class A" in text and "band test" not in text
    schedule = json.loads(run("--trust", TRUST, "--pac-schedule", "100,300"))
    assert schedule["schedule"][-1] == "0.00"


@pytest.mark.parametrize(("args", "message"), [
    (["--textbook", "FJF-01", "--psa", "fast"], "--psa: 'fast' is not a number"),
    (["--textbook", "FJF-01", "--psa", "-5"], "--psa takes PSA speeds of 0 or more"),
    (["--textbook", "FJF-01", "--pac-schedule", "300"], "--pac-schedule is LOWER,UPPER"),
    (["--textbook", "FJF-01", "--pac-schedule", "300,90"], "lower below upper"),
    (["--textbook", "FJF-01", "--pac-schedule", "90,300", "--face", "400000000"], "above what the 90-300 PSA band"),
    (["--textbook", "FJF-01", "--pac-schedule", "90,300", "--face", "1.005"], "--face: "),
    (["--textbook", "FJF-01", "--face", "100"], "--face goes with --pac-schedule"),
    (["--trust", "NOPE"], "no trust 'NOPE'"),
    (["--textbook", "FJF-01", "--price", "0"], "--price: a price must be above zero"),
    (["--textbook", "FJF-01", "--price", "Q=99"], "--price: a price is given for Q, not a class of the deal"),
    (["--textbook", "FJF-01", "--price", "A=,B=99"], "--price is a price, or CLASS=PRICE pairs"),
    (["--textbook", "FJF-01", "--price", "1"], "no yield between"),
])
@pytest.mark.django_db
def test_bad_input_is_a_command_error_naming_the_option(args, message):
    with pytest.raises(CommandError, match=message.replace("(", r"\(")):
        run(*args)
