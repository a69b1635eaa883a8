"""Servicing: borrowers, properties, loans, amortization, collections, escrow, delinquency and default."""
