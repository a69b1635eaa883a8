"""Forming structured deals (docs/deals/): the structure recorded by TrustFormed v3, kept by the rows,
served by deal_structure, shown on the trust page, and rebuilt from the log; the faces' refusals."""
import json
from datetime import date
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from ledger.events import decode
from ledger.models import Event
from ledger.projections import differences
from ledger.verification import verify
from servicing.services.boarding import tape_board
from tests.actors import TESTS
from tests.integration.trusts.deals import form
from trusts.domain.deal_file import parse_deal
from trusts.domain.deal_structure import STANDARD_STRUCTURE
from trusts.errors import DealRejected
from trusts.models import SecurityClass, Trust
from trusts.selectors import deal_structure
from trusts.domain.structure_json import structure_to_json

pytestmark = pytest.mark.django_db
DEALS = Path(__file__).resolve().parents[3] / "docs" / "deals"
AGENCY, PRIVATE = "agency-pac-2026-1", "private-label-2026-1"


def example(name: str) -> dict:
    return json.loads((DEALS / f"{name}.json").read_text())


@pytest.fixture
def boarded():
    for name in (AGENCY, PRIVATE):
        tape_board(raw=(DEALS / f"{name}-tape.csv").read_bytes(), boarded_on=date(2026, 1, 15), acting_user=TESTS)


def kinds(trust) -> dict[str, str]:
    return dict(SecurityClass.objects.filter(trust=trust).values_list("name", "kind"))


def test_the_private_label_deal_records_its_structure(boarded, django_assert_num_queries):
    trust = form(example(PRIVATE))
    expected = parse_deal(example(PRIVATE))[0].structure
    fact = decode(Event.objects.get(stream=f"trust:{trust.code}", event_type="TrustFormed"))
    assert fact.to_payload()["schema_version"] == 3
    assert fact.structure == structure_to_json(expected) and fact.structure["trustee_fee_rate"] == "0.0100"
    trust = Trust.objects.get(pk=trust.pk)
    assert trust.structure == fact.structure and trust.overcollateralized
    with django_assert_num_queries(0):
        assert deal_structure(trust) == expected
    assert kinds(trust) == {"A": "standard", "M": "standard", "B": "standard"}
    assert verify().ok and differences() == []


def test_the_agency_deal_leaves_its_io_out_of_the_pools_faces(boarded):
    trust = form(example(AGENCY))
    assert kinds(trust) == {"PA": "pac", "S": "support", "Z": "accrual", "PX": "io"}
    structure = deal_structure(trust)
    assert structure.features_of("PA").scheduled_balance(1) == 179_683_800
    assert structure.features_of("PX").notional_of == ("PA",)
    assert trust.classes.get(name="PX").original_face_cents == 180_000_000


def test_a_rebuild_from_the_log_gives_the_structure_and_kinds_back(boarded):
    form(example(AGENCY))
    form(example(PRIVATE))
    before = (sorted(Trust.objects.values_list("code", "structure")),
              sorted(SecurityClass.objects.values_list("pk", "kind")))
    call_command("rebuild_projections", "--projection", "trusts.reference", verbosity=0)
    after = (sorted(Trust.objects.values_list("code", "structure")),
             sorted(SecurityClass.objects.values_list("pk", "kind")))
    assert after == before and ("pac" in dict(before[1]).values())


def test_a_deal_file_without_structure_forms_the_standard_deal(trust):
    assert trust.structure == {} and set(kinds(trust).values()) == {"standard"}
    assert deal_structure(trust) == STANDARD_STRUCTURE


def test_an_io_face_must_be_its_notional(boarded):
    deal = example(AGENCY)
    deal["classes"][3]["face"] = "1000000.00"
    deal["holders"] = [h for h in deal["holders"] if h["class"] != "PX"]
    with pytest.raises(DealRejected) as rejected:
        form(deal)
    assert rejected.value.problems == [
        "class PX: an IO's face is its initial notional, 1,800,000.00 (the faces of PA), not 1,000,000.00"]
    deal["classes"][3].update(face="3000000.00", notional_of="pool")
    assert Trust.objects.count() == 0
    assert form(deal).classes.get(name="PX").original_face_cents == 300_000_000


def test_an_overcollateralization_target_needs_faces_below_the_pool(boarded):
    deal = example(PRIVATE)
    deal["classes"][2]["face"] = "320000.00"  # faces now add up to the pool's 4,000,000.00
    deal["holders"] = [h for h in deal["holders"] if h["class"] != "B"]
    with pytest.raises(DealRejected, match="an overcollateralization target needs the classes' faces below"):
        form(deal)
    deal["classes"][2]["face"] = "380000.00"
    with pytest.raises(DealRejected, match="faces add up to 4,060,000.00 but the pool's cut-off balance is 4,000,000.00"):
        form(deal)


def test_the_trust_page_shows_the_structure_and_the_class_list_the_kinds(admin_client, boarded):
    private, agency = form(example(PRIVATE)), form(example(AGENCY))
    page = admin_client.get(reverse("admin:trusts_trust_change", args=[private.pk])).content.decode()
    for text in ("trustee_fee → servicing_fee", "0.0100% a year", "step-down after period 36",
                 "cumulative loss above 1.25% from period 37", "60+ days delinquent above 8%", "target 1.5%",
                 "target 100,000.00, initial deposit 25,000.00", "below 10% of its cut-off balance"):
        assert text in page, text
    page = admin_client.get(reverse("admin:trusts_trust_change", args=[agency.pk])).content.decode()
    for text in ("(the standard deal)", "schedule of 217 periods, 1,796,838.00 after period 1", "band 90–300 PSA",
                 "notional: PA", "accrual"):
        assert text in page, text
    listing = admin_client.get(reverse("admin:trusts_securityclass_changelist")).content.decode()
    assert "support" in listing and "pac" in listing

