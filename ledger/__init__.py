"""The ledger: one immutable, hash-chained event log with double-entry postings."""
