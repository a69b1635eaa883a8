"""Deal files for tests (the seed's pass-through, changed where a test needs it) and register transfers."""
import copy
import json
from datetime import date

from tests.actors import TESTS
from tests.unit.trusts.test_deal_file import EXAMPLE
from trusts.services.forming import deal_file_form
from trusts.services.register import holding_transfer

TRUST = "XYZ-2026-1"


def seed_deal(**changes):
    """The seed's pass-through: ten $100,000 loans, 1,000 bonds of $1,000, ten investors of 100 bonds."""
    deal = copy.deepcopy(EXAMPLE)
    deal.update(cutoff_date="2026-01-15", closing_date="2026-01-15", loans=[f"L{i:03d}" for i in range(1, 11)],
                holders=[{"code": f"INV-{i:02d}", "name": f"Investor {i}", "class": "A", "face": "100000.00"}
                         for i in range(1, 11)])
    deal.update(changes)
    return deal


def form(deal):
    return deal_file_form(raw=json.dumps(deal).encode(), acting_user=TESTS)


def transfer(from_holder="INV-01", to_holder="INV-02", face_cents=5_000_000, trade_date=date(2026, 1, 28),
             settlement_date=date(2026, 2, 2), class_name="A"):
    """A transfer of class A of the seed's trust; by default 50,000.00 from INV-01 to INV-02 settling Feb 2."""
    return holding_transfer(trust_code=TRUST, class_name=class_name, from_holder=from_holder, to_holder=to_holder,
                            face_cents=face_cents, trade_date=trade_date, settlement_date=settlement_date,
                            acting_user=TESTS)
