"""The README's map of the code names every module of the apps, and nothing that is not there."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("ledger", "servicing", "trusts", "remittance", "analytics", "approvals", "webhooks")
MODULE = re.compile(r"(?<![\w./])((?:[a-z_]+/)?[a-z_]+\.py)\b")


def map_block() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Map of the code", 1)[1]
    return section.split("```", 2)[1].splitlines()


def named_modules() -> dict[str, set[str]]:
    """Module paths the map names, by app: `domain/: a.py, b.py` names domain/a.py and domain/b.py."""
    named: dict[str, set[str]] = {}
    app = folder = None
    for line in map_block():
        head = re.match(r"^([a-z_]+)/\s", line)
        if head:
            app, folder = head.group(1), None
            named.setdefault(app, set())
            line = line[head.end():]
        sub = re.match(r"^\s*([a-z_]+)/:", line)
        if sub:
            folder = sub.group(1)
            line = line[sub.end():]
        if app is None:
            continue
        for name in MODULE.findall(line):
            named[app].add(name if "/" in name or folder is None else f"{folder}/{name}")
    return named


def app_modules(app: str) -> set[str]:
    found = set()
    for path in (ROOT / app).rglob("*.py"):
        parts = path.relative_to(ROOT / app).parts
        if path.name == "__init__.py" or parts[0] in ("migrations", "management", "templatetags"):
            continue
        found.add("/".join(parts))
    return found


def test_every_module_the_map_names_exists():
    named = named_modules()
    missing = {app: sorted(m for m in named.get(app, ()) if not (ROOT / app / m).exists()) for app in APPS}
    assert not any(missing.values()), f"the README's map names modules that are not there: {missing}"


def test_every_module_of_the_apps_is_on_the_map():
    named = named_modules()
    absent = {app: sorted(app_modules(app) - named.get(app, set())) for app in APPS}
    assert not any(absent.values()), f"modules the README's map does not name: {absent}"
