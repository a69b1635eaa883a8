"""No reader sees a slot as an account: only the ledger's projection touches the slot table.

A hot account's balance is kept in several rows (`AccountBalanceSlot`); every
reader goes through `AccountBalance` (the view that sums them) or
`ledger.selectors.stored_balances`. This test fails when production code names
the slot table anywhere else. Migrations and the model's own module are the
exceptions; tests may name it to tamper with it.
"""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PRODUCTION_PACKAGES = ("config", "ledger", "servicing", "trusts", "remittance", "api", "approvals", "analytics",
                       "benchmarks", "templates")
ALLOWED = {"ledger/models.py", "ledger/projections.py"}
SLOT_TABLE = re.compile(r"AccountBalanceSlot|ledger_accountbalanceslot|accountbalanceslot", re.IGNORECASE)


def test_only_the_projection_touches_balance_slots():
    readers = sorted(
        str(path.relative_to(ROOT))
        for package in PRODUCTION_PACKAGES
        for path in (ROOT / package).rglob("*")
        if path.suffix in (".py", ".html", ".sql") and "migrations" not in path.parts
        and str(path.relative_to(ROOT)) not in ALLOWED and SLOT_TABLE.search(path.read_text(encoding="utf-8"))
    )
    assert not readers, f"these read or write balance slots directly; read AccountBalance instead: {readers}"
