"""``ServerSettings.load``: flags win over ``VOIGPT_*`` variables, which win over the defaults;
every value is checked, and an error names the flag or the variable it came from (never a
key). ``check_exposure`` refuses a non-loopback address without a key unless told to."""

from __future__ import annotations

from typing import Any

import pytest

from voigpt.domain.errors import InvalidConfig
from voigpt.entrypoints.server.settings import ServerSettings


def load(environ: dict[str, str] | None = None, **flags: Any) -> ServerSettings:
    return ServerSettings.load(environ=environ or {}, **flags)


def test_the_defaults_serve_loopback_with_no_keys() -> None:
    settings = load()
    assert settings == ServerSettings()
    assert (settings.host, settings.port, settings.api_keys) == ("127.0.0.1", 8080, ())
    assert (settings.max_concurrency, settings.queue_timeout) == (64, 1.0)
    assert settings.max_body_bytes == 1024 * 1024
    assert settings.loopback


def test_variables_are_read_and_parsed() -> None:
    settings = load({
        "VOIGPT_HOST": "::1", "VOIGPT_PORT": "9000", "VOIGPT_API_KEYS": "k1, k2 ,",
        "VOIGPT_MAX_CONCURRENCY": "3", "VOIGPT_QUEUE_TIMEOUT": "0.5",
        "VOIGPT_MAX_BODY_BYTES": "2048", "VOIGPT_WORKERS": "2", "VOIGPT_DRAIN_TIMEOUT": "5",
        "VOIGPT_CORS_ORIGINS": "https://a.example/,http://b.example:8000",
        "VOIGPT_LOG_PROMPTS": "yes", "VOIGPT_ALLOW_UNAUTHENTICATED": "off",
    })
    assert settings.host == "::1" and settings.port == 9000
    assert settings.api_keys == ("k1", "k2")
    assert (settings.max_concurrency, settings.queue_timeout) == (3, 0.5)
    assert (settings.max_body_bytes, settings.workers, settings.drain_timeout) == (2048, 2, 5.0)
    assert settings.cors_origins == ("https://a.example", "http://b.example:8000")
    assert settings.log_prompts is True and settings.allow_unauthenticated is False


def test_flags_win_over_variables_and_none_or_empty_flags_do_not() -> None:
    environ = {"VOIGPT_PORT": "9000", "VOIGPT_API_KEYS": "from-env", "VOIGPT_MAX_CONCURRENCY": "7"}
    settings = load(environ, port=9001, api_keys=["flag-1", "flag-2"], max_concurrency=None)
    assert settings.port == 9001
    assert settings.api_keys == ("flag-1", "flag-2")
    assert settings.max_concurrency == 7
    assert load(environ, api_keys=[]).api_keys == ("from-env",)


def test_an_empty_variable_means_the_default() -> None:
    assert load({"VOIGPT_PORT": "", "VOIGPT_API_KEYS": ""}) == ServerSettings()


@pytest.mark.parametrize(
    ("flags", "environ", "named"),
    [
        ({"port": "80a"}, {}, "--port"),
        ({"port": 65536}, {}, "--port"),
        ({}, {"VOIGPT_PORT": "-1"}, "$VOIGPT_PORT"),
        ({"port": True}, {}, "--port"),
        ({"max_concurrency": 0}, {}, "--max-concurrency"),
        ({}, {"VOIGPT_MAX_CONCURRENCY": "1.5"}, "$VOIGPT_MAX_CONCURRENCY"),
        ({"queue_timeout": -1}, {}, "--queue-timeout"),
        ({"queue_timeout": "nan"}, {}, "--queue-timeout"),
        ({"queue_timeout": 61}, {}, "--queue-timeout"),
        ({"max_body_bytes": 1023}, {}, "--max-body-bytes"),
        ({"workers": 0}, {}, "--workers"),
        ({"drain_timeout": "inf"}, {}, "--drain-timeout"),
        ({"host": "a b"}, {}, "--host"),
        ({"host": "http://x/"}, {}, "--host"),
        ({}, {"VOIGPT_LOG_PROMPTS": "perhaps"}, "$VOIGPT_LOG_PROMPTS"),
        ({"cors_origins": ["example.com"]}, {}, "--cors-origin"),
        ({}, {"VOIGPT_API_KEYS": " , "}, "$VOIGPT_API_KEYS"),
    ],
)
def test_a_bad_value_is_refused_naming_where_it_came_from(
    flags: dict[str, Any], environ: dict[str, str], named: str
) -> None:
    with pytest.raises(InvalidConfig) as info:
        load(environ, **flags)
    assert str(info.value).startswith(named)


@pytest.mark.parametrize("key", ["has space", "has,comma", "caf\u00e9", "tab\there"])
def test_a_key_that_cannot_be_a_bearer_token_is_refused_without_showing_it(key: str) -> None:
    with pytest.raises(InvalidConfig) as info:
        load(api_keys=["good-key", key])
    assert "--api-key: key #2" in str(info.value)
    assert key not in str(info.value) and "good-key" not in str(info.value)


def test_repr_shows_how_many_keys_not_the_keys() -> None:
    settings = load(api_keys=["sk-secret-1", "sk-secret-2"])
    assert "sk-secret" not in repr(settings)
    assert "<2 keys>" in repr(settings)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "localhost"])
def test_loopback_hosts_need_no_key(host: str) -> None:
    settings = load(host=host)
    assert settings.loopback
    settings.check_exposure()


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.com"])
def test_a_non_loopback_host_without_a_key_is_refused(host: str) -> None:
    with pytest.raises(InvalidConfig, match="refusing to bind") as info:
        load(host=host)
    assert "--api-key" in str(info.value) and "--allow-unauthenticated" in str(info.value)
    with pytest.raises(InvalidConfig, match="refusing to bind"):
        ServerSettings(host=host).check_exposure()


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "example.com"])
def test_a_non_loopback_host_is_served_with_a_key_or_when_allowed(host: str) -> None:
    assert load(host=host, api_keys=["k"]).api_keys == ("k",)
    assert load(host=host, allow_unauthenticated=True).allow_unauthenticated
    assert load({"VOIGPT_HOST": host, "VOIGPT_ALLOW_UNAUTHENTICATED": "1"}).host == host
