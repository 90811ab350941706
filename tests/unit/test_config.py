"""Settings come from keywords, a dict or VOIGPT_* variables, and are checked before I/O."""

from __future__ import annotations

import pytest

from voigpt.config import Settings
from voigpt.domain import AccessToken
from voigpt.domain.errors import InvalidConfig, InvalidProxy
from voigpt.domain.limits import Timeouts

ENV = {
    "VOIGPT_BASE_URL": "http://127.0.0.1:9/",
    "VOIGPT_ACCESS_TOKEN": "envtoken",
    "VOIGPT_PROXY": "socks5h://u:p@127.0.0.1:1080",
    "VOIGPT_TIMEOUT": "2.5",
    "VOIGPT_BACKEND": "fake",
    "VOIGPT_MAX_REPLY_BYTES": "1024",
}


def test_defaults_point_at_the_real_site_over_http() -> None:
    settings = Settings.load(environ={})
    assert settings.base_url == "https://voigpt.com"
    assert settings.backend == "http"
    assert settings.proxy is None
    assert settings.timeouts == Timeouts(connect=10.0, read=60.0)


def test_reads_every_variable_from_the_environment() -> None:
    settings = Settings.load(environ=ENV)
    assert settings.base_url == "http://127.0.0.1:9"
    assert settings.access_token == AccessToken("envtoken")
    assert settings.proxy is not None and settings.proxy.scheme == "socks5h"
    assert settings.timeouts == Timeouts(connect=2.5, read=2.5)
    assert settings.backend == "fake"
    assert settings.max_reply_bytes == 1024


def test_keywords_win_over_the_dict_which_wins_over_the_environment() -> None:
    settings = Settings.load(
        {"timeout": 7, "backend": "http"}, environ=ENV, timeout=3
    )
    assert settings.timeout == 3.0
    assert settings.backend == "http"
    assert settings.max_reply_bytes == 1024


def test_repr_shows_neither_token_nor_proxy_password() -> None:
    settings = Settings.load(
        environ={}, access_token="CANARYtok", proxy="http://user:CANARYpw@127.0.0.1:3128"
    )
    assert "CANARYtok" not in repr(settings)
    assert "CANARYpw" not in repr(settings)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"timeout": "soon"}, r"timeout= must be a number of seconds, got 'soon'"),
        ({"timeout": 0}, "positive"),
        ({"timeout": float("nan")}, "positive"),
        ({"backend": "grpc"}, "backend= must be one of http, local, fake"),
        ({"base_url": "voigpt.com"}, "must be an http:// or https:// URL"),
        ({"base_url": "ftp://voigpt.com"}, "must be an http:// or https:// URL"),
        ({"base_url": "http://u:CANARY@voigpt.com"}, "must not carry credentials"),
        ({"base_url": "http://h:99999"}, "invalid port"),
        ({"max_reply_bytes": -1}, "positive"),
        ({"access_token": "has space"}, "not a usable cookie value"),
        ({"colour": "red"}, r"unknown setting\(s\) \['colour'\]"),
    ],
)
def test_bad_settings_say_what_is_wrong(overrides: dict[str, object], expected: str) -> None:
    with pytest.raises(InvalidConfig, match=expected) as info:
        Settings.load(environ={}, **overrides)
    assert isinstance(info.value, ValueError)
    assert "CANARY" not in str(info.value)


def test_a_bad_variable_is_named() -> None:
    with pytest.raises(InvalidConfig, match=r"\$VOIGPT_TIMEOUT"):
        Settings.load(environ={"VOIGPT_TIMEOUT": "-1"})


def test_a_bad_proxy_variable_is_an_invalid_proxy() -> None:
    with pytest.raises(InvalidProxy, match=r"\$VOIGPT_PROXY scheme"):
        Settings.load(environ={"VOIGPT_PROXY": "gopher://h:70"})


def test_retries_default_to_two_and_zero_disables_them() -> None:
    assert Settings.load(environ={}).retries == 2
    assert Settings.load(environ={"VOIGPT_RETRIES": "0"}).retries == 0
    with pytest.raises(InvalidConfig, match="from 0 to 10"):
        Settings.load(environ={}, retries=-1)
    with pytest.raises(InvalidConfig, match="whole number"):
        Settings.load(environ={}, retries="two")


def test_the_timeout_is_also_the_deadline_of_a_whole_completion() -> None:
    assert Settings.load(environ={}, timeout=4).deadline == 4.0
    assert Settings.load(environ={}).deadline == 90.0


def test_timeouts_from_one_number_bound_connect_and_read() -> None:
    assert Timeouts.total(3) == Timeouts(connect=3, read=3)
    assert Timeouts.total(120) == Timeouts(connect=10, read=120)
