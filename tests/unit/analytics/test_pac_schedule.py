"""A PAC's schedule from its band: the minimum of the collateral's principal at the band's two speeds."""
from decimal import Decimal

import pytest

from analytics.domain.pac_schedule import (
    ScheduleError, band_minimum, collateral_principal, deal_file_features, pac_schedule,
)
from analytics.domain.textbook_deals import BALANCE_CENTS, PAC_BAND, collateral
from trusts.domain.deal_structure import PAC, ClassFeatures, ClassOutline, DealStructure, structure_problems

REPLINES = (collateral(),)


@pytest.fixture(scope="module")
def full():
    return pac_schedule(REPLINES, PAC_BAND)


def test_the_collateral_principal_is_the_projection_cents_and_pays_the_whole_pool():
    for speed in PAC_BAND:
        assert sum(collateral_principal(REPLINES, speed)) == BALANCE_CENTS


def test_the_scheduled_principal_is_the_smaller_of_the_two_speeds_each_month(full):
    slow, fast = collateral_principal(REPLINES, 90), collateral_principal(REPLINES, 300)
    assert list(full.scheduled_principal) == [min(a, b) for a, b in zip(slow, fast)]
    # Early the slow speed pays less, late the fast one (its pool is nearly gone).
    assert full.scheduled_principal[0] == slow[0] < fast[0]
    assert full.scheduled_principal[-1] == fast[-1] < slow[-1]


def test_the_default_face_is_all_the_band_supports_and_the_schedule_runs_it_to_zero(full):
    assert full.face_cents == sum(band_minimum(REPLINES, *PAC_BAND))
    assert full.balances[0] == full.face_cents - full.scheduled_principal[0]
    assert all(b >= a for a, b in zip(full.balances[1:], full.balances))
    assert full.balances[-1] == 0 and len(full.balances) == 357
    cumulative = 0
    for principal, balance in zip(full.scheduled_principal, full.balances):
        cumulative += principal
        assert balance == full.face_cents - cumulative


def test_a_smaller_face_follows_the_same_schedule_and_pays_off_earlier(full):
    face = full.face_cents - 50_000_000_00
    cut = pac_schedule(REPLINES, PAC_BAND, face_cents=face)
    assert cut.face_cents == face and sum(cut.scheduled_principal) == face
    assert cut.scheduled_principal[:-1] == full.scheduled_principal[:len(cut.scheduled_principal) - 1]
    assert cut.balances[-1] == 0 and len(cut.balances) < len(full.balances)


@pytest.mark.parametrize(("band", "face", "message"), [
    ((Decimal(300), Decimal(90)), None, "lower below upper"),
    ((Decimal(90), Decimal(90)), None, "lower below upper"),
    (PAC_BAND, 0, "above zero"),
    (PAC_BAND, BALANCE_CENTS, "above what the 90-300 PSA band pays"),
])
def test_a_band_or_face_that_cannot_make_a_schedule_is_refused(band, face, message):
    with pytest.raises(ScheduleError, match=message):
        pac_schedule(REPLINES, band, face_cents=face)


def test_no_collateral_is_refused():
    with pytest.raises(ScheduleError, match="needs collateral"):
        pac_schedule((), PAC_BAND)


def test_the_deal_file_features_are_a_schedule_the_deal_structure_accepts(full):
    data = deal_file_features(full)
    assert data["kind"] == PAC and data["band"] == ["90", "300"]
    assert data["face"] == f"{full.face_cents // 100}.{full.face_cents % 100:02d}"
    assert data["schedule"][-1] == "0.00" and len(data["schedule"]) == len(full.balances)
    schedule = tuple(int(Decimal(b) * 100) for b in data["schedule"])
    assert schedule == full.balances
    features = ClassFeatures(kind=PAC, schedule=schedule, band=PAC_BAND)
    outlines = [ClassOutline(name="P", face_cents=full.face_cents, coupon=Decimal("7.5"), priority=1)]
    assert structure_problems(DealStructure(features={"P": features}), outlines) == []
