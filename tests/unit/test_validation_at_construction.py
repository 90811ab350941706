"""Nothing invalid can be built: value objects, settings and the g4f token cache refuse bad
values when they are made (or used), before any I/O, with an error that names the problem."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.messages import HELLO
from voigpt import AccessToken, Client, Conversation, InvalidInput, Message, Role, VoiGpt
from voigpt.domain.errors import InvalidConfig, InvalidMessages, InvalidProxy
from voigpt.domain.proxy import ProxyUrl
from voigpt.domain.site_url import parse_base_url


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (lambda: Conversation(()), "must not be empty"),
        (lambda: Conversation(("hi",)), r"messages\[0\] must be a Message, got str"),
        (lambda: Message(Role.USER, b"x"), "'content' must be a string, got bytes"),
        (lambda: Message("robot", "x"), "'role' must be one of"),
        (lambda: Message(Role.USER, "a\ud800"), "not valid UTF-8 at index 1"),
    ],
)
def test_messages_and_conversations_cannot_be_built_invalid(build: Any, expected: str) -> None:
    with pytest.raises(InvalidMessages, match=expected):
        build()


@pytest.mark.parametrize("value", ["a\r\nb", "a;b", "", "ą", "a\x00", 42])
def test_a_token_cannot_be_built_invalid(value: Any) -> None:
    with pytest.raises(InvalidInput) as caught:
        AccessToken(value)
    assert not isinstance(value, str) or not value or value not in str(caught.value)


def test_a_message_role_may_be_given_by_name() -> None:
    assert Message("user", "hi").role is Role.USER


@pytest.mark.parametrize("timeout", [1e300, 10**12, 86400.5, "1e400"])
def test_an_absurd_timeout_is_refused_at_build_time(timeout: object) -> None:
    with pytest.raises(InvalidConfig, match="timeout= must be"):
        Client(backend="fake", timeout=timeout)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://[::1", "invalid address"),
        ("http://h:99999", "invalid port"),
        ("http://" + "a" * 64 + ".com", "invalid host name"),
        ("http://127.0.0.1:8000/a\x01b", "control characters"),
        ("http://127.0.0.1:8000/a\r\nX-Evil: 1", "control characters"),
        ("http://127.0.0.1:8000/a b", "spaces"),
    ],
)
def test_a_base_url_that_cannot_become_a_header_is_refused(url: str, expected: str) -> None:
    with pytest.raises(InvalidConfig, match=expected):
        parse_base_url(url)


def test_a_base_url_is_made_ascii_for_headers() -> None:
    assert parse_base_url("http://bücher.example/ü/") == "http://xn--bcher-kva.example/%C3%BC"
    assert parse_base_url("http://[::1]:8000/") == "http://[::1]:8000"


def test_a_base_url_loses_a_default_port_as_browsers_write_origin_and_referer() -> None:
    assert parse_base_url("https://voigpt.com:443/") == "https://voigpt.com"
    assert parse_base_url("http://[::1]:80/chat") == "http://[::1]/chat"
    assert parse_base_url("https://voigpt.com:80") == "https://voigpt.com:80"


@pytest.mark.parametrize(
    "url",
    [
        "http://user:SEC/RET@127.0.0.1:1",
        "http://user:SEC?RET@127.0.0.1:1",
        "http://user:SEC#RET@127.0.0.1:1",
        "ftp://user:SEC/RET@127.0.0.1:1",
        "http://user:SEC/RET@127.0.0.1:99999",
        "http://user:SEC@RET@host/x",
    ],
)
def test_a_proxy_password_never_shows_whatever_it_holds(url: str) -> None:
    with pytest.raises(InvalidProxy) as caught:
        ProxyUrl.parse(url)
    assert "SEC" not in str(caught.value)
    assert "RET" not in str(caught.value)


def test_proxy_credentials_outside_latin_1_are_refused() -> None:
    with pytest.raises(InvalidProxy, match="printable Latin-1"):
        ProxyUrl.parse("http://ą:pw@127.0.0.1:1")


@pytest.mark.parametrize("value", ["abc;def=1", "abc\r\nX: y", "abc\x00", "ąbc"])
def test_the_g4f_class_token_is_checked_on_use(value: str, g4f_provider: type[VoiGpt]) -> None:
    g4f_provider._access_token = value
    with pytest.raises(InvalidInput, match=r"VoiGpt\._access_token is not a usable"):
        next(g4f_provider.create_completion("", HELLO, False))
