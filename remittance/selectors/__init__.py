"""Reads of remittance state for the interfaces and the services: queries only, never a write."""
