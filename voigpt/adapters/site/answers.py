"""What voigpt.com's answers mean: statuses become voigpt errors, redirects are followed
only on the site itself, and every excerpt or location shown is bounded and scrubbed of the
secrets of the exchange."""

from __future__ import annotations

import base64
import math
import re
import time
from collections.abc import Iterable, Mapping
from urllib.parse import urljoin, urlsplit

from voigpt.domain.errors import (
    AccessRejected,
    Blocked,
    ConnectionFailed,
    RateLimited,
    ServiceUnavailable,
    UnexpectedStatus,
)
from voigpt.domain.redaction import scrub as scrub  # a secret in every form, as logs mask it

EXCERPT_LIMIT = 500
MAX_REDIRECTS = 5

_CHALLENGE_MARKERS = re.compile(
    r"just a moment|cf-challenge|challenge-platform|checking your browser|captcha|"
    r"attention required|ddos-guard|are you a robot|verify you are human",
    re.IGNORECASE,
)


def credential_forms(username: str | None, password: str | None) -> set[str]:
    """A proxy password, and the Basic credentials that carry it (what a proxy may echo)."""
    if not password:
        return set()
    basic = base64.b64encode(f"{username or ''}:{password}".encode("latin-1", "replace"))
    return {password, basic.decode("ascii")}


def excerpt(text: str, secrets: Iterable[str] = (), limit: int = EXCERPT_LIMIT) -> str:
    """At most ``limit`` characters of ``text`` (a cut marked with an ellipsis), scrubbed.
    Only its start is scrubbed (a 10 MiB error page costs what a short one does), and what
    may be the start of a secret cut off there is dropped with the rest."""
    secrets = [secret for secret in secrets if secret]
    text = text.strip()
    # How far a secret cut off at the end may reach back, once scrubbed: its longest form
    # (every byte escaped, 3 characters each), as much as tripled by "***"s before it.
    reach = 9 * max((len(secret.encode("utf-8")) for secret in secrets), default=0)
    head = text[: 8 * limit + 2 * reach]
    cut = len(head) < len(text)
    shown = scrub(head, secrets)
    shown = (shown[: len(shown) - reach] if cut else shown).rstrip()
    return shown if len(shown) <= limit and not cut else shown[: limit - 1] + "…"


def redirect_target(
    url: str, location: str, *, status: int, what: str, secrets: Iterable[str] = ()
) -> str:
    """Where a redirect from ``url`` leads, if it stays on the same site (scheme, host and
    port); otherwise ``UnexpectedStatus``: a redirect elsewhere is the server's doing."""
    shown = repr(excerpt(location, secrets, limit=200))
    try:
        target = urljoin(url, location.strip())
        parts, here = urlsplit(target), urlsplit(url)
        same = (parts.scheme, parts.hostname, parts.port) == (here.scheme, here.hostname, here.port)
    except ValueError:
        same, parts = False, None
    usable = parts is not None and parts.scheme in ("http", "https") and parts.hostname
    if not usable or any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in target):
        raise UnexpectedStatus(
            f"{what}: {url} redirected (HTTP {status}) to an unusable URL {shown}", status=status
        )
    assert parts is not None
    if scrub(target, secrets) != target:
        raise UnexpectedStatus(
            f"{what}: {url} redirected (HTTP {status}) to a URL that carries a credential of "
            "this exchange; not followed",
            status=status,
        )
    if not same:
        raise UnexpectedStatus(
            f"{what}: {url} redirected (HTTP {status}) to another site, "
            f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}; not followed: if the site "
            "moved, set the base URL to it",
            status=status,
        )
    return target


def raise_for_status(
    status: int, headers: Mapping[str, str], body: str, *, what: str, url: str,
    via: str | None = None, secrets: Iterable[str] = (),
) -> None:
    """Raise the voigpt error for a non-2xx answer; return for 2xx."""
    if 200 <= status < 300:
        return
    shown = excerpt(body, secrets)
    if status in (403, 503) and looks_like_challenge(headers, body):
        raise Blocked(
            f"{what}: {url} answered with an anti-bot challenge page (HTTP {status}); "
            "pass a token from a browser session with --access-token, or try --proxy",
            status=status, excerpt=shown,
        )
    if status == 403:
        raise AccessRejected(
            f"{what}: {url} rejected the CSRF token (HTTP 403)", status=status, excerpt=shown
        )
    if status == 407:
        raise ConnectionFailed(
            f"{what}: the proxy {via} refused to forward to {url} (HTTP 407 Proxy Authentication "
            "Required); check the user and password in the proxy URL",
            status=status,
        )
    if status == 429:
        retry_after = parse_retry_after(headers.get("Retry-After"))
        hint = f"; retry after {retry_after:g}s" if retry_after is not None else ""
        raise RateLimited(
            f"{what}: {url} is rate limiting this client (HTTP 429){hint}",
            status=status, excerpt=shown, retry_after=retry_after,
        )
    if 500 <= status < 600:
        raise ServiceUnavailable(
            f"{what}: {url} is failing (HTTP {status}); try again later",
            status=status, excerpt=shown,
        )
    if 300 <= status < 400:
        location = excerpt(headers.get("Location", "?"), secrets, limit=200)
        raise UnexpectedStatus(
            f"{what}: {url} redirected (HTTP {status}) to {location!r}; check the base URL",
            status=status,
        )
    raise UnexpectedStatus(f"{what}: {url} answered HTTP {status}", status=status, excerpt=shown)


def declares_more_than(content_length: str, cap: int) -> bool:
    """Whether an answer's ``Content-Length`` says it is longer than ``cap`` bytes: refused
    before its body is read (a length that is no whole number is left to the reading)."""
    declared = content_length.strip()
    return declared.isascii() and declared.isdigit() and int(declared) > cap


def looks_like_challenge(headers: Mapping[str, str], body: str) -> bool:
    if headers.get("cf-mitigated", "").lower() == "challenge":
        return True
    content_type = headers.get("Content-Type", "")
    return "html" in content_type.lower() and bool(_CHALLENGE_MARKERS.search(body[:20000]))


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), as the
    server said (never negative); None when absent or unreadable. The retry policy caps it."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            import email.utils  # here: only a Retry-After date needs it

            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    return max(seconds, 0.0) if math.isfinite(seconds) else None
