"""A holder's name and contact pass the same text checks as every other name: nothing invisible, no formula."""
import re

import pytest

from ledger.models import Event
from tests.actors import TESTS
from trusts.errors import TrustError
from trusts.models import Holder
from trusts.services.holders import holder_details_change

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name,contact,reason", [
    ("Investor\u200b 1", "", "U+200B"),
    ("Investor 1", "ops@\u2028example.com", "U+2028"),
    ("=HYPERLINK(\"x\")", "", "formula"),
])
def test_an_invisible_character_or_a_formula_in_a_holders_details_is_refused(trust, name, contact, reason):
    before = Event.objects.count()
    with pytest.raises(TrustError, match=f"^holder INV-01: .*{re.escape(reason)}"):
        holder_details_change(code="INV-01", name=name, contact=contact, acting_user=TESTS)
    assert Event.objects.count() == before
    assert Holder.objects.get(code="INV-01").name == "Investor 1"
