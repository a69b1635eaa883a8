"""Fixtures for the trusts tests: twelve boarded loans, and the seed's trust formed from ten of them."""
import pytest

from tests.integration.servicing.tapes import board, seed_rows
from tests.integration.trusts.deals import form, seed_deal


@pytest.fixture
def loans():
    """L001 to L012: $100,000 at 6%, boarded on 2026-01-15, first due 2026-02-01."""
    board(*seed_rows(12))


@pytest.fixture
def trust(loans):
    """XYZ-2026-1 formed from L001 to L010; INV-01 to INV-10 hold 100,000.00 of class A each."""
    return form(seed_deal())
