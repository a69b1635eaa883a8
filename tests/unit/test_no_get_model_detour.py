"""No way round the layers: production code does not reach another app's models through `apps.get_model`.

`make lint` checks with import-linter that the apps import downward only (pyproject.toml, contract
"layers"). An `apps.get_model("remittance", "PeriodResult")` in trusts is the same upward dependency
without an import statement, which import-linter cannot see; this test sees it. Migrations are the
exception: Django hands them historical models through `apps.get_model`, which is the only way they
may read models.
"""
import ast
from pathlib import Path


ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_PACKAGES = ("config", "ledger", "servicing", "trusts", "remittance", "api", "approvals", "analytics")
# The one known detour, removed on another branch of issue 18; its own test below is expected to fail until then.


def get_model_detours(source: str, owner: str) -> list[str]:
    """Each `<...>apps.get_model(...)` call in `source` that names an app other than `owner`, as 'line: label'.

    A label that is not a literal string cannot be shown to stay inside the app, so it counts too.
    """
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("get_model", "get_registered_model")):
            continue
        receiver = node.func.value
        receiver_name = receiver.id if isinstance(receiver, ast.Name) else getattr(receiver, "attr", "")
        if not receiver_name.endswith("apps"):
            continue  # e.g. DRF's self.get_model(): not the app registry
        first = node.args[0] if node.args else None
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            label = first.value.split(".")[0]  # "remittance" or "remittance.PeriodResult"
        else:
            label = "<computed>"
        if label != owner:
            found.append(f"{node.lineno}: {label}")
    return found


def _production_files():
    for package in PRODUCTION_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.relative_to(ROOT).parts:
                yield path


def _detours(paths) -> dict[str, list[str]]:
    detours = {}
    for path in paths:
        relative = path.relative_to(ROOT).as_posix()
        found = get_model_detours(path.read_text(encoding="utf-8"), owner=relative.split("/")[0])
        if found:
            detours[relative] = found
    return detours


def test_the_check_finds_a_detour_and_allows_an_app_its_own_models():
    source = (
        "from django.apps import apps\n"
        "a = apps.get_model('trusts', 'Trust')\n"
        "b = apps.get_model('remittance', 'PeriodResult')\n"
        "c = apps.get_model('remittance.PeriodResult')\n"
        "d = apps.get_model(label, 'X')\n"
        "e = self.get_model()\n"
    )
    assert get_model_detours(source, owner="trusts") == ["3: remittance", "4: remittance", "5: <computed>"]


def test_no_production_code_reaches_another_app_through_get_model():
    paths = list(_production_files())
    assert len(paths) > 100  # the walk found the code
    assert _detours(paths) == {}
