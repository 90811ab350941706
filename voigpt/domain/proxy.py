"""Proxy URLs: parsed and checked before any I/O, never shown whole.

Accepted: ``http://``, ``https://``, ``socks5://`` (names resolved locally) and
``socks5h://`` (names resolved by the proxy), each with optional ``user:password@``.
Credentials with reserved characters are percent-encoded in the URL, as usual.
"""

from __future__ import annotations

from urllib.parse import quote, unquote, urlsplit

import attrs

from voigpt.domain.errors import InvalidProxy

SCHEMES = ("http", "https", "socks5", "socks5h")
_DEFAULT_PORTS = {"http": 80, "https": 443, "socks5": 1080, "socks5h": 1080}


@attrs.frozen(repr=False)
class ProxyUrl:
    """A validated proxy address. ``repr``/``str`` hide the password."""

    scheme: str
    host: str
    port: int
    username: str | None = None
    password: str | None = attrs.field(default=None, repr=False)

    @classmethod
    def parse(cls, url: object, *, where: str = "proxy") -> ProxyUrl:
        if not isinstance(url, str):
            raise InvalidProxy(f"{where} must be a URL string, got {type(url).__name__}")
        if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
            raise InvalidProxy(f"{where} must not contain whitespace or control characters")
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise InvalidProxy(f"{where} has an invalid port or address: {_scrub(url)}") from None
        scheme = parts.scheme.lower()
        if scheme not in SCHEMES:
            shown = f"{scheme!r}" if scheme else "none"
            raise InvalidProxy(
                f"{where} scheme must be one of {', '.join(SCHEMES)}; got {shown} "
                f"in {_scrub(url)}"
            )
        if not parts.hostname:
            raise InvalidProxy(f"{where} has no host: {_scrub(url)}")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise InvalidProxy(
                f"{where} must not have a path, query or fragment (percent-encode '/', '?' and "
                f"'#' in a password): {_scrub(url)}"
            )
        credentials = [unquote(part) for part in (parts.username, parts.password) if part]
        if any(not _latin1_printable(part) for part in credentials):
            raise InvalidProxy(
                f"{where}: the user and password must be printable Latin-1 characters "
                f"(what proxy authentication can carry): {_scrub(url)}"
            )
        if port == 0 or not _valid_host(parts.hostname):
            raise InvalidProxy(f"{where} has an invalid port or host: {_scrub(url)}")
        return cls(
            scheme=scheme,
            host=parts.hostname,
            port=port if port is not None else _DEFAULT_PORTS[scheme],
            username=unquote(parts.username) if parts.username is not None else None,
            password=unquote(parts.password) if parts.password is not None else None,
        )

    @property
    def url(self) -> str:
        """The full URL, credentials included. Hand it to the HTTP library, never to a log."""
        return self._render(masked=False)

    def redacted(self) -> str:
        return self._render(masked=True)

    def _render(self, *, masked: bool) -> str:
        auth = ""
        if self.username is not None:
            auth = quote(self.username, safe="")
            if self.password is not None:
                auth += ":" + ("***" if masked else quote(self.password, safe=""))
            auth += "@"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{auth}{host}:{self.port}"

    def __repr__(self) -> str:
        return f"ProxyUrl({self.redacted()!r})"

    __str__ = redacted


def redacted_url(url: str) -> str:
    """``url`` with any userinfo masked, for messages. Everything up to the last '@' counts
    as userinfo, whatever characters the password holds."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "***" if "@" in url else url
    if "@" in rest:
        rest = "***@" + rest.rpartition("@")[2]
    return f"{scheme}://{rest}"


def _scrub(url: str) -> str:
    return repr(redacted_url(url))


def _latin1_printable(text: str) -> bool:
    return all(0x20 <= ord(ch) <= 0xFF and ord(ch) != 0x7F for ch in text)


def _valid_host(host: str) -> bool:
    if ":" in host:  # an IPv6 literal, already checked by urlsplit
        return True
    try:
        host.encode("idna")
    except UnicodeError:
        return False
    return True
