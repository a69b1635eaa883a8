"""Trusts sits below remittance, analytics, approvals and the API: it imports none of them, not even around
the import system with apps.get_model (the apps above add to its pages and holdings from their side)."""
import ast
from pathlib import Path

TRUSTS = Path(__file__).resolve().parents[3] / "trusts"
ABOVE = ("remittance", "analytics", "approvals", "api")


def _modules():
    # Migrations read historical models by name (apps.get_model is how a migration must): they are not code paths.
    return [p for p in TRUSTS.rglob("*.py") if "migrations" not in p.parts]


def test_trusts_imports_nothing_above_it():
    found = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            found += [f"{path.name}: {n}" for n in names if n.split(".")[0] in ABOVE]
    assert found == []


def test_trusts_reaches_no_model_by_name():
    calls = [f"{path.name}:{node.lineno}" for path in _modules()
             for node in ast.walk(ast.parse(path.read_text(), str(path)))
             if isinstance(node, ast.Attribute) and node.attr == "get_model"]
    assert calls == []
