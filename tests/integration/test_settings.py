"""Settings from the environment: the embedded default and the production mode."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "k3y-" + "x9Qz7-Lm2PvR8sT4wY6bN1cH5jD0fG3aE" * 2


def _manage(*args, env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "CELERY_BROKER_URL"}}
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
