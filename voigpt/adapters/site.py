"""voigpt.com's wire format, shared by every HTTP adapter (no I/O, no HTTP library).

``GET {base}/`` sets the ``csrftoken`` cookie. ``POST {base}/generate_response/`` carries
``Cookie: csrftoken=T``, ``X-CSRFToken: T``, ``Origin``, ``Referer`` and the body
``{"messages": [{"role": ..., "content": ...}, ...]}``, and gets ``{"response": "<text>"}``.
Statuses become voigpt errors here, with a bounded excerpt of the body.
"""

from __future__ import annotations

import email.utils
import json
import math
import re
import time
from collections.abc import Mapping
from urllib.parse import urlsplit

from voigpt.domain.errors import (
    AccessRejected,
    Blocked,
    ConnectionFailed,
    InvalidInput,
    MalformedReply,
    RateLimited,
    ServiceUnavailable,
    TokenUnavailable,
    UnexpectedStatus,
)
from voigpt.domain.values import AccessToken, Conversation

TOKEN_PATH = "/"
COMPLETION_PATH = "/generate_response/"
TOKEN_COOKIE = "csrftoken"
TOKEN_HEADER = "X-CSRFToken"
EXCERPT_LIMIT = 500

BROWSER_HEADERS = {
    "User-Agent": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
    ),
    "Accept-Language": "en-US,en;q=0.9",
}
PAGE_HEADERS = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}

_CHALLENGE_MARKERS = re.compile(
    r"just a moment|cf-challenge|challenge-platform|checking your browser|captcha|"
    r"attention required|ddos-guard|are you a robot|verify you are human",
    re.IGNORECASE,
)


def origin_of(url: str) -> str:
    """``scheme://host[:port]``: what a browser sends as Origin for pages under ``url``."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def completion_headers(base_url: str, token: AccessToken) -> dict[str, str]:
    """The headers of ``POST /generate_response/``: the CSRF pair, as the site's page sends."""
    return {
        "Accept": "application/json, text/plain, */*",
        "Content-Type": "application/json",
        "Cookie": f"{TOKEN_COOKIE}={token.value}",
        TOKEN_HEADER: token.value,
        "Origin": origin_of(base_url),
        "Referer": base_url + "/",
    }


def encode_request(conversation: Conversation) -> bytes:
    """The JSON body of ``POST /generate_response/``, UTF-8 encoded."""
    payload = {"messages": conversation.to_dicts()}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def decode_reply(body: str, *, where: str = "the reply", status: int | None = None) -> str:
    """The reply text, or ``MalformedReply`` with an excerpt of the body."""
    try:
        data = json.loads(body)
    except ValueError:
        raise MalformedReply(
            f"{where} is not JSON", status=status, excerpt=excerpt(body) or "<empty body>"
        ) from None
    if not isinstance(data, dict) or "response" not in data:
        raise MalformedReply(
            f'{where} has no "response" field', status=status, excerpt=excerpt(body)
        )
    text = data["response"]
    if not isinstance(text, str):
        raise MalformedReply(
            f'{where} has a "response" of type {type(text).__name__}, not a string',
            status=status,
            excerpt=excerpt(body),
        )
    return text


def token_from(cookies: Mapping[str, str], *, status: int, url: str) -> AccessToken:
    """The csrftoken that ``GET /`` set, or ``TokenUnavailable``."""
    value = cookies.get(TOKEN_COOKIE)
    if value is None:
        raise TokenUnavailable(
            f"fetching a token: GET {url} answered HTTP {status} but set no "
            f"{TOKEN_COOKIE!r} cookie; check the base URL, or pass an access token"
        )
    try:
        return AccessToken.parse(value, where=f"the {TOKEN_COOKIE} cookie from {url}")
    except InvalidInput as exc:
        raise TokenUnavailable(f"fetching a token: {exc}") from None


def excerpt(text: str, limit: int = EXCERPT_LIMIT) -> str:
    """At most ``limit`` characters of ``text``, marking a cut with an ellipsis."""
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def raise_for_status(
    status: int, headers: Mapping[str, str], body: str, *, what: str, url: str,
    via: str | None = None,
) -> None:
    """Raise the voigpt error for a non-2xx answer; return for 2xx."""
    if 200 <= status < 300:
        return
    shown = excerpt(body)
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
        raise UnexpectedStatus(
            f"{what}: {url} redirected (HTTP {status}) to {headers.get('Location', '?')!r}; "
            "check the base URL",
            status=status,
        )
    raise UnexpectedStatus(f"{what}: {url} answered HTTP {status}", status=status, excerpt=shown)


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
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    return max(seconds, 0.0) if math.isfinite(seconds) else None
