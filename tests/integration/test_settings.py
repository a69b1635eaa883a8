"""Settings from the environment: the embedded default and the production mode.

Production mode (DEBUG=false) passes `check --deploy` with no warning, and refuses
to start, saying which and why, when a secret is missing or weak: SECRET_KEY, and the
password of any service it connects to over the network (DATABASE_URL,
CELERY_BROKER_URL, CELERY_RESULT_BACKEND, CACHE_URL). No secret is written in the repository.
"""
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from config.env import service_password_problem

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "k3y-" + "x9Qz7-Lm2PvR8sT4wY6bN1cH5jD0fG3aE" * 2
STRONG_PASSWORD = "Vb7-qT2x9LmWc4Rz"  # only ever handed to a `check` that connects to nothing
SECRET_NAMES = {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND",
                "CACHE_URL"}
PRODUCTION = {"DEBUG": "false", "SECRET_KEY": STRONG_KEY, "ALLOWED_HOSTS": "mbs.example.com"}


def _manage(*args, env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in SECRET_NAMES}
    env.update(env_overrides)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def test_production_mode_refuses_to_start_without_a_real_secret_key():
    result = _manage("check", env_overrides={"DEBUG": "false", "ALLOWED_HOSTS": "mbs.example.com"})
    assert result.returncode != 0
    assert "needs SECRET_KEY" in result.stderr
    weak = _manage("check", env_overrides={"DEBUG": "false", "SECRET_KEY": "short", "ALLOWED_HOSTS": "x.example"})
    assert weak.returncode != 0 and "needs SECRET_KEY" in weak.stderr


def test_production_mode_passes_check_deploy_with_no_warnings():
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING",
        env_overrides={"DEBUG": "false", "SECRET_KEY": STRONG_KEY, "ALLOWED_HOSTS": "mbs.example.com"},
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_mode_with_every_service_on_the_network_passes_check_deploy_with_no_warnings():
    services = {"DATABASE_URL": f"postgres://mbs:{STRONG_PASSWORD}@db.internal:5432/mbs",
                "CELERY_BROKER_URL": f"redis://:{STRONG_PASSWORD}@redis.internal:6379/0",
                "CACHE_URL": f"redis://:{STRONG_PASSWORD}@redis.internal:6379/1"}
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env_overrides={**PRODUCTION, **services})
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("name, url, why", [
    ("DATABASE_URL", "postgres://mbs@db.internal:5432/mbs", "names the server db.internal but carries no password"),
    ("DATABASE_URL", "postgres://mbs:postgres@db.internal:5432/mbs", "carries a weak password"),
    ("DATABASE_URL", "postgres://mbs:mbs-2024@db.internal:5432/mbs", "carries a weak password"),
    ("CELERY_BROKER_URL", "redis://redis:6379/0", "names the server redis but carries no password"),
    ("CELERY_RESULT_BACKEND", "redis://:changeme@redis:6379/0", "carries a weak password"),
    ("CACHE_URL", "redis://cache.internal:6379/1", "names the server cache.internal but carries no password"),
])
def test_production_mode_refuses_to_start_with_a_missing_or_weak_service_password(name, url, why):
    result = _manage("check", env_overrides={**PRODUCTION, name: url})
    assert result.returncode != 0
    assert f"Production mode (DEBUG=false): {name} {why}" in result.stderr
    password = urlsplit(url).password
    assert not password or password not in result.stderr, "the refusal must not print the password"


def test_production_mode_lets_services_on_this_machine_use_local_trust():
    """The benchmark's and CI's production-shaped runs: PostgreSQL and Redis on loopback, no password."""
    local = {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/mbs", "CELERY_BROKER_URL": "redis://localhost:6379/0",
             "CACHE_URL": "redis://[::1]:6379/1"}
    result = _manage("check", env_overrides={**PRODUCTION, **local})
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("url, problem", [
    ("sqlite:////var/lib/mbs/db.sqlite3", None),
    ("postgres:///mbs", None),  # a Unix socket
    ("postgres://postgres@127.0.0.1:5432/mbs", None),
    (f"postgres://mbs:{STRONG_PASSWORD}@db:5432/mbs", None),
    ("postgres://mbs:%70ostgres@db:5432/mbs", "weak"),  # percent-encoded "postgres"
    ("postgres://mbsmbsmbsmbs:mbsmbsmbsmbs@db/mbs", "weak"),  # the user name again
    ("postgres://mbs:short@127.0.0.1/mbs", "weak"),  # a weak password is weak on loopback too
    ("rediss://cache.example.net:6380/0", "no password"),
    (f"redis://:{STRONG_PASSWORD}@cache.example.net:6380/0", None),
])
def test_service_password_rules(url, problem):
    found = service_password_problem(url)
    assert (found is None) if problem is None else (problem in found)


# Files of the repository that configure or run the project (tests and prose aside).
_CONFIG_SUFFIXES = {".py", ".yml", ".yaml", ".toml", ".cfg", ".ini", ".sh", ".env", ".txt", ".conf"}
_URL_WITH_PASSWORD = re.compile(r"[a-z][a-z0-9+]*://[^/\s:@\"']*:([^@\s\"']+)@")
_PLACEHOLDER = re.compile(r"^(\$\{[A-Z_]+(:\?[^}]*)?\}|\.\.\.|<[a-z-]+>|\{[a-z_]+\})$")


def _tracked_configuration_files():
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for name in listed.splitlines():
        path = ROOT / name
        if name.startswith("tests/") or not path.is_file():
            continue
        if path.suffix in _CONFIG_SUFFIXES or path.name in {"Dockerfile", "Makefile"} or "/.ci/" in f"/{name}":
            yield name, path


def test_no_password_is_written_in_the_repository():
    """Every password in a URL of a tracked file is a placeholder or comes from the environment (${VAR})."""
    written = []
    for name, path in _tracked_configuration_files():
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
            for password in _URL_WITH_PASSWORD.findall(line):
                if not _PLACEHOLDER.match(password):
                    written.append(f"{name}:{number}: {line.strip()}")
    assert not written, "passwords written in the repository:\n" + "\n".join(written)


def test_the_production_shape_takes_every_secret_from_the_environment():
    compose = (ROOT / "docker-compose.yml").read_text()
    for secret in ("SECRET_KEY", "POSTGRES_PASSWORD", "REDIS_PASSWORD"):
        assert f"${{{secret}:?" in compose, f"docker-compose.yml must require {secret} from the environment"
    assert "--requirepass" in compose


def test_unrecognised_boolean_is_an_error_not_a_guess():
    result = _manage("check", env_overrides={"DEBUG": "perhaps"})
    assert result.returncode != 0 and "is not a boolean" in result.stderr


def _setting(expression, **env_overrides):
    code = f"import django; django.setup(); from django.conf import settings; print({expression})"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings", **env_overrides})
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60).stdout.strip()


def test_embedded_default_is_sqlite_in_the_project_folder_with_eager_celery():
    assert _setting("settings.DATABASES['default']['ENGINE'], settings.DATABASES['default']['NAME']") == (
        f"django.db.backends.sqlite3 {ROOT / 'db.sqlite3'}"
    )
    assert _setting("settings.CELERY_TASK_ALWAYS_EAGER") == "True"


def test_broker_and_database_come_from_the_environment():
    env = {"DATABASE_URL": "postgres://u:p@db.internal:5432/mbs", "CELERY_BROKER_URL": "redis://cache:6379/0"}
    assert _setting("settings.DATABASES['default']['HOST'], settings.CELERY_TASK_ALWAYS_EAGER", **env) == (
        "db.internal False"
    )
    assert _setting("__import__('config').celery_app.conf.broker_url", **env) == "redis://cache:6379/0"
