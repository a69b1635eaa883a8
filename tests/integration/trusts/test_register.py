"""The register: transfers that never overdraw, the record-date rule, past dates, factors, and races."""
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ledger.models import Event
from ledger.projections import differences
from ledger.verification import verify
from remittance.domain.trust_calendar import Period, next_business_day, record_date
from tests.integration.trusts.deals import TRUST, transfer
from tests.integration.trusts.races import race
from trusts.errors import TrustError
from trusts.events import HoldingTransferred
from trusts.domain.factors import factor
from trusts.models import HoldingMovement, SecurityClass
from trusts.selectors import holders_of_record, holdings_as_of

pytestmark = pytest.mark.django_db
CLOSING = date(2026, 1, 15)
WHOLE = 10_000_000  # each investor's 100,000.00 of class A


def register(as_of: date) -> dict[str, int]:
    return holdings_as_of(security_class=SecurityClass.objects.get(trust__code=TRUST, name="A"), as_of=as_of)


def transfers_recorded() -> int:
    return Event.objects.filter(stream=f"register:{TRUST}", event_type=HoldingTransferred.event_type).count()


def test_a_transfer_moves_face_on_its_settlement_date(trust):
    event = transfer()
    assert (event.stream, event.effective_date) == (f"register:{TRUST}", date(2026, 2, 2))
    assert HoldingTransferred.from_payload(event.payload) == HoldingTransferred(
        class_name="A", from_holder="INV-01", to_holder="INV-02", face_cents=5_000_000,
        trade_date=date(2026, 1, 28), settlement_date=date(2026, 2, 2))
    assert event.payload["schema_version"] == HoldingTransferred.schema_version == 2
    before, after = register(date(2026, 2, 1)), register(date(2026, 2, 2))
    assert (before["INV-01"], before["INV-02"]) == (WHOLE, WHOLE)
    assert (after["INV-01"], after["INV-02"]) == (5_000_000, 15_000_000)
    assert sum(before.values()) == sum(after.values()) == 100_000_000


@pytest.mark.parametrize("changes, message", [
    ({"face_cents": 10_100_000}, "holder INV-01 holds 100,000.00 of class A, less than the 101,000.00 to transfer"),
    ({"to_holder": "NOBODY"}, "unknown holder NOBODY"),
    ({"from_holder": "INV-02"}, "a transfer needs two different holders"),
    ({"face_cents": 150_000}, "face must be a positive multiple of the 1,000.00 denomination"),
    ({"face_cents": 0}, "face must be a positive multiple of the 1,000.00 denomination"),
    ({"settlement_date": date(2026, 1, 27)}, "settlement cannot come before the trade"),
    ({"class_name": "B"}, f"trust {TRUST} has no class B"),
])
def test_refused_transfers_record_nothing(trust, changes, message):
    with pytest.raises(TrustError, match=re.escape(message)):
        transfer(**changes)
    assert transfers_recorded() == 0


def test_a_sale_cannot_overdraw_a_sale_that_settles_later(trust):
    transfer(face_cents=WHOLE, trade_date=date(2026, 3, 2), settlement_date=date(2026, 3, 10))
    # On March 5 INV-01 still holds it all, but the March 10 sale needs every bond of it.
    with pytest.raises(TrustError, match="holds 100,000.00 of class A on 2026-03-05, but transfers settling later "
                                         "leave 0.00, less than the 10,000.00 to transfer"):
        transfer(to_holder="INV-03", face_cents=1_000_000, settlement_date=date(2026, 3, 5))
    # Bought back on March 20: holding on March 5 and at the end is whole, but not in between.
    transfer(from_holder="INV-02", to_holder="INV-01", face_cents=WHOLE, settlement_date=date(2026, 3, 20))
    with pytest.raises(TrustError, match="transfers settling later leave 0.00"):
        transfer(to_holder="INV-03", face_cents=WHOLE, settlement_date=date(2026, 3, 5))
    transfer(to_holder="INV-03", face_cents=WHOLE, settlement_date=date(2026, 3, 20))
    for day in (date(2026, 3, 5), date(2026, 3, 10), date(2026, 3, 20)):
        assert min(register(day).values()) > 0 and sum(register(day).values()) == 100_000_000
    assert transfers_recorded() == 3


def test_the_record_date_decides_who_is_paid_for_the_period(trust):
    february = record_date(Period.parse("2026-02"))
    assert february == date(2026, 2, 27)
    transfer(face_cents=4_000_000, trade_date=february - timedelta(days=2), settlement_date=february)
    transfer(from_holder="INV-03", to_holder="INV-04", face_cents=WHOLE, trade_date=february,
             settlement_date=next_business_day(february))
    a = SecurityClass.objects.get(trust__code=TRUST, name="A")
    of_record = holders_of_record(security_class=a, record_date=february)
    assert (of_record["INV-01"], of_record["INV-02"]) == (6_000_000, 14_000_000)
    assert (of_record["INV-03"], of_record["INV-04"]) == (WHOLE, WHOLE)
    march = holders_of_record(security_class=a, record_date=record_date(Period.parse("2026-03")))
    assert "INV-03" not in march and march["INV-04"] == 2 * WHOLE


def test_the_register_as_of_past_dates(trust):
    transfer(face_cents=3_000_000, settlement_date=date(2026, 2, 2))
    transfer(from_holder="INV-02", to_holder="INV-03", face_cents=13_000_000, trade_date=date(2026, 2, 27),
             settlement_date=date(2026, 3, 2))
    others = {f"INV-{i:02d}": WHOLE for i in range(4, 11)}
    assert register(CLOSING - timedelta(days=1)) == {}
    assert register(CLOSING) == {"INV-01": WHOLE, "INV-02": WHOLE, "INV-03": WHOLE, **others}
    assert register(date(2026, 2, 2)) == {"INV-01": 7_000_000, "INV-02": 13_000_000, "INV-03": WHOLE, **others}
    assert register(date(2026, 3, 2)) == {"INV-01": 7_000_000, "INV-03": 23_000_000, **others}


def test_factors_are_eight_decimals_rounded_half_up():
    assert factor(99_900_450, 100_000_000) == Decimal("0.99900450")
    assert factor(1, 3) == Decimal("0.33333333") and factor(2, 3) == Decimal("0.66666667")
    assert factor(1, 200_000_000) == Decimal("0.00000001")  # exactly half a unit in the last place: up
    assert factor(100, 100).as_tuple().exponent == -8
    for original in (0, -1):
        with pytest.raises(ValueError, match="a factor needs a positive original balance"):
            factor(1, original)


def test_transfer_holding_command(trust, capsys):
    call_command("transfer_holding", "--trust", TRUST, "--class", "A", "--from", "INV-01", "--to", "INV-02",
                 "--face", "50,000.00", "--trade-date", "2026-01-28", "--settlement-date", "2026-02-02")
    assert (f"transferred 50,000.00 of {TRUST} class A from INV-01 to INV-02, settling 2026-02-02"
            in capsys.readouterr().out)
    assert register(date(2026, 2, 2))["INV-02"] == 15_000_000
    with pytest.raises(CommandError, match="holds 50,000.00 of class A, less than the 60,000.00"):
        call_command("transfer_holding", "--trust", TRUST, "--class", "A", "--from", "INV-01", "--to", "INV-03",
                     "--face", "60000", "--trade-date", "2026-02-03", "--settlement-date", "2026-02-05")
    with pytest.raises(CommandError, match="--face: '100.005' has fractions of a cent"):
        call_command("transfer_holding", "--trust", TRUST, "--class", "A", "--from", "INV-01", "--to", "INV-03",
                     "--face", "100.005", "--trade-date", "2026-02-03", "--settlement-date", "2026-02-05")


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_eight_buyers_race_for_one_whole_holding_and_exactly_one_gets_it(trust):
    buyers = [f"INV-{i:02d}" for i in range(2, 10)]
    outcomes = race(lambda buyer: transfer(to_holder=buyer, face_cents=WHOLE), buyers)
    assert outcomes.count("done") == 1, outcomes
    refused = [o for o in outcomes if o != "done"]
    assert all("holder INV-01 holds 0.00 of class A" in o for o in refused), refused
    assert transfers_recorded() == 1
    for day in HoldingMovement.objects.values_list("settlement_date", flat=True).distinct():
        assert min(register(day).values()) > 0 and sum(register(day).values()) == 100_000_000
    assert "INV-01" not in register(date(2026, 2, 2))
    assert differences() == [] and verify().ok
