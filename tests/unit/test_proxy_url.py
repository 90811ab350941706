"""Proxy URLs are checked before I/O and never shown with their password."""

from __future__ import annotations

import pytest

from voigpt.domain.errors import InvalidProxy
from voigpt.domain.proxy import ProxyUrl


@pytest.mark.parametrize(
    ("url", "scheme", "host", "port"),
    [
        ("http://127.0.0.1:3128", "http", "127.0.0.1", 3128),
        ("https://proxy.example:8443", "https", "proxy.example", 8443),
        ("socks5://127.0.0.1", "socks5", "127.0.0.1", 1080),
        ("SOCKS5H://[::1]:9050", "socks5h", "::1", 9050),
    ],
)
def test_accepts_the_four_schemes(url: str, scheme: str, host: str, port: int) -> None:
    proxy = ProxyUrl.parse(url)
    assert (proxy.scheme, proxy.host, proxy.port) == (scheme, host, port)


def test_credentials_are_decoded_and_re_encoded_for_the_http_library() -> None:
    proxy = ProxyUrl.parse("socks5://al%40ice:p%3Ass%2Fw@127.0.0.1:1080")
    assert (proxy.username, proxy.password) == ("al@ice", "p:ss/w")
    assert proxy.url == "socks5://al%40ice:p%3Ass%2Fw@127.0.0.1:1080"


def test_the_password_is_hidden_everywhere_but_url() -> None:
    proxy = ProxyUrl.parse("http://user:CANARYpw@127.0.0.1:3128")
    for shown in (repr(proxy), str(proxy), proxy.redacted(), repr([proxy])):
        assert "CANARYpw" not in shown
        assert "user:***@127.0.0.1:3128" in shown


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("ftp://h:21", "scheme must be one of http, https, socks5, socks5h; got 'ftp'"),
        ("127.0.0.1:3128", "scheme must be one of"),
        ("socks4://h:1080", "got 'socks4'"),
        ("http://:3128", "has no host"),
        ("http://user:CANARYpw@:3128", "has no host"),
        ("http://h:notaport", "invalid port"),
        ("http://h:3128/path", "must not have a path"),
        ("http://h :3128", "whitespace"),
        (3128, "must be a URL string, got int"),
    ],
)
def test_bad_proxy_urls_say_why(url: object, expected: str) -> None:
    with pytest.raises(InvalidProxy, match=expected) as info:
        ProxyUrl.parse(url)
    assert isinstance(info.value, ValueError)
    assert "CANARYpw" not in str(info.value)
