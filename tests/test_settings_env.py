"""The operations variables documented in the README are read from the environment."""

import pytest

from app.settings import Settings

VARIABLES = (
    "LIVERMETS_MAX_BATCH_ITEMS",
    "LIVERMETS_MAX_BATCH_BODY_BYTES",
    "LIVERMETS_CORS_ALLOW_ORIGINS",
    "LIVERMETS_API_KEY",
    "LIVERMETS_ACCESS_LOG",
    "LIVERMETS_LOG_LEVEL",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_defaults_are_safe_ones() -> None:
    settings = Settings.from_env()
    assert settings.max_batch_items == 1000
    assert settings.max_batch_body_bytes == 2 * 1024 * 1024
    assert settings.cors_allow_origins == ()
    assert settings.api_key is None
    assert settings.access_log is True
    assert settings.log_level == "INFO"


def test_every_variable_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVERMETS_MAX_BATCH_ITEMS", "50")
    monkeypatch.setenv("LIVERMETS_MAX_BATCH_BODY_BYTES", "123456")
    monkeypatch.setenv("LIVERMETS_CORS_ALLOW_ORIGINS", " https://a.example, https://b.example ,")
    monkeypatch.setenv("LIVERMETS_API_KEY", "secret")
    monkeypatch.setenv("LIVERMETS_ACCESS_LOG", "false")
    monkeypatch.setenv("LIVERMETS_LOG_LEVEL", "warning")
    settings = Settings.from_env()
    assert settings.max_batch_items == 50
    assert settings.max_batch_body_bytes == 123456
    assert settings.cors_allow_origins == ("https://a.example", "https://b.example")
    assert settings.api_key == "secret"
    assert settings.access_log is False
    assert settings.log_level == "WARNING"


def test_an_empty_api_key_means_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVERMETS_API_KEY", "")
    assert Settings.from_env().api_key is None


@pytest.mark.parametrize("value", ["0", "-5", "many", "1.5"])
def test_a_bad_limit_stops_start_up_naming_the_variable(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("LIVERMETS_MAX_BATCH_ITEMS", value)
    with pytest.raises(ValueError, match="LIVERMETS_MAX_BATCH_ITEMS must be a positive whole number"):
        Settings.from_env()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("LIVERMETS_MAX_BODY_BYTES", "-5", "LIVERMETS_MAX_BODY_BYTES must be a positive whole number, got '-5'"),
        ("LIVERMETS_LOG_LEVEL", "LOUD", "LIVERMETS_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
    ],
)
def test_values_accepted_before_are_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=message):
        Settings.from_env()


def test_settings_built_in_code_ignore_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests and the benchmark build Settings(...) themselves: a variable left set in a shell
    (here an API key) must not change what they run."""
    monkeypatch.setenv("LIVERMETS_API_KEY", "secret")
    monkeypatch.setenv("LIVERMETS_MAX_BODY_BYTES", "10")
    settings = Settings(seeds_dir=None)
    assert settings.api_key is None
    assert settings.max_body_bytes == 64 * 1024


def test_quotes_unverified_means_no_seeds_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVERMETS_VERIFY_QUOTES", "false")
    assert Settings.from_env().seeds_dir is None
