"""Unit tests of the remittance app's pure money and calendar modules (no database)."""
