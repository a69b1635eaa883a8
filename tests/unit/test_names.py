"""One name per concept: no two modules or classes of the project's own code share a name by accident.

A module name may repeat only where the copies play the same part in different places:
- an app's role modules (apps, models, admin, events, selectors, ...) once per app;
- the same business word in different layers of one app (services/escrow.py, tasks/escrow.py,
  projections/escrow.py are the escrow service, its schedule and its read model).
What is refused is two modules of one name that mean two things: `closing.py` beside
`services/closing.py`, three `checks.py` that were a deploy check, argument checks and a reconciliation.
Management commands are named by the command line, not by the code, so they are left out.
"""
import ast
from collections import defaultdict
from pathlib import Path


ROOT = Path(__file__).resolve().parents[2]
APPS = ("ledger", "servicing", "trusts", "remittance", "api", "approvals", "analytics", "webhooks", "config")
# Modules every app may have once: the parts Django or the project's conventions give each app.
ROLE_MODULES = {
    "__init__", "apps", "models", "admin", "admin_forms", "errors", "events", "selectors", "services",
    "projections", "tasks", "verification", "dated_rules", "urls",
}
# Packages that are layers: the same business word may name a module in each of them.
LAYERS = {"domain", "services", "selectors", "projections", "tasks", "views", "serializers", "templatetags"}
# Class names Django and its conventions repeat on purpose.
CONVENTIONAL_CLASSES = {"Command", "Migration", "Meta"}


def project_modules():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            parts = path.relative_to(ROOT).parts
            if "migrations" in parts or "commands" in parts:
                continue
            yield app, path



def test_no_two_modules_share_a_name_unless_they_play_the_same_part():
    places = defaultdict(list)
    for app, path in project_modules():
        if path.stem in ROLE_MODULES:
            continue
        package = path.parent.name
        places[path.stem].append((app, package if package in LAYERS else "(top level)", path.relative_to(ROOT)))
    clashes = []
    for name, where in places.items():
        apps = {app for app, _, _ in where}
        layers_by_app = defaultdict(list)
        for app, layer, _ in where:
            layers_by_app[app].append(layer)
        one_app_per_name = len(apps) == 1 or all(layer != "(top level)" for _, layer, _ in where)
        distinct_layers = all(len(layers) == len(set(layers)) for layers in layers_by_app.values())
        top_level_beside_layer = any(
            "(top level)" in layers and len(layers) > 1 for layers in layers_by_app.values()
        )
        if not (one_app_per_name and distinct_layers) or top_level_beside_layer:
            clashes.append(f"{name}.py: {', '.join(str(p) for _, _, p in where)}")
    assert not clashes, "modules that share a name but not a part:\n" + "\n".join(clashes)


def test_no_two_classes_share_a_name():
    places = defaultdict(list)
    for _, path in project_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                if node.name not in CONVENTIONAL_CLASSES:
                    places[node.name].append(str(path.relative_to(ROOT)))
    clashes = {name: where for name, where in places.items() if len(where) > 1}
    assert not clashes, f"classes declared twice under one name: {clashes}"
