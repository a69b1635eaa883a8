"""The webhooks' settings from the environment: production refuses loopback; numbers are checked, not guessed."""
from tests.integration.test_settings import PRODUCTION, _manage, _setting


def test_production_refuses_to_send_webhooks_to_this_machine():
    result = _manage("check", env_overrides={**PRODUCTION, "WEBHOOKS_ALLOW_LOOPBACK_HTTP": "true"})
    assert result.returncode != 0 and "WEBHOOKS_ALLOW_LOOPBACK_HTTP" in result.stderr
    assert _manage("check", env_overrides={**PRODUCTION, "WEBHOOKS_ALLOW_LOOPBACK_HTTP": "false"}).returncode == 0


def test_the_retry_settings_come_from_the_environment_and_nonsense_is_refused():
    assert _setting("settings.WEBHOOKS_MAX_ATTEMPTS, settings.WEBHOOKS_BACKOFF_SECONDS, "
                    "settings.WEBHOOKS_BACKOFF_MAX_SECONDS, settings.WEBHOOKS_TIMEOUT_SECONDS, "
                    "settings.WEBHOOKS_ALLOW_LOOPBACK_HTTP") == "8 30.0 3600.0 5.0 False"
    assert _setting("settings.WEBHOOKS_BACKOFF_SECONDS", WEBHOOKS_BACKOFF_SECONDS="0.5") == "0.5"
    for value in ("soon", "-1", "nan", "inf"):
        result = _manage("check", env_overrides={"WEBHOOKS_BACKOFF_SECONDS": value})
        assert result.returncode != 0 and "WEBHOOKS_BACKOFF_SECONDS" in result.stderr, value
