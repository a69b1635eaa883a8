"""Fixtures for the analytics tests: the seed's loans boarded (the trusts tests' fixture)."""
from tests.integration.trusts.conftest import loans  # noqa: F401
