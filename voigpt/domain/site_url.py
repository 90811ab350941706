"""The site's base URL: an http(s) URL with a valid host and nothing a header cannot carry
(it becomes ``Origin`` and ``Referer``)."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from voigpt.domain.errors import InvalidConfig


def parse_base_url(url: object, where: str = "base_url") -> str:
    """Check a base URL before any I/O: an http(s) URL with a valid host and nothing a header
    cannot carry. Returns it without a trailing slash or a default port, its path
    percent-encoded to ASCII."""
    if not isinstance(url, str) or not url.strip():
        raise InvalidConfig(f"{where} must be a non-empty URL string")
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in url):
        raise InvalidConfig(f"{where} must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        problem = "an invalid port" if "port" in str(exc).lower() else "an invalid address"
        raise InvalidConfig(f"{where} has {problem}: {url!r}") from None
    if parts.username is not None or parts.password is not None:
        raise InvalidConfig(f"{where} must not carry credentials (user:password@)")
    if port == 0:
        raise InvalidConfig(f"{where} has an invalid port: {url!r}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidConfig(f"{where} must be an http:// or https:// URL with a host, got {url!r}")
    if parts.query or parts.fragment:
        raise InvalidConfig(
            f"{where} must not have a query or fragment, like https://voigpt.com, got {url!r}"
        )
    netloc = parts.netloc
    if "[" in netloc and not re.fullmatch(r"\[[0-9A-Fa-f:.]+\](:[0-9]+)?", netloc):
        raise InvalidConfig(f"{where} has an invalid address: {url!r}")
    if len(parts.hostname) > 253:
        raise InvalidConfig(f"{where} has a host name over 253 characters")
    if ":" not in parts.hostname:  # a name, not an IPv6 literal: each label 1-63 characters
        try:
            host = parts.hostname.encode("idna").decode("ascii")
        except UnicodeError:
            raise InvalidConfig(f"{where} has an invalid host name: {url!r}") from None
        netloc = host if port is None else f"{host}:{port}"
        if netloc.lower() == parts.netloc.lower():
            netloc = parts.netloc
    if (parts.scheme, port) in (("http", 80), ("https", 443)):
        netloc = netloc.rpartition(":")[0]  # as browsers write Origin and Referer
    path = quote(parts.path.rstrip("/"), safe="/%:@!$&'()*+,;=-._~")
    return f"{parts.scheme}://{netloc}{path}"
