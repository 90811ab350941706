"""What voigpt.com's requests and replies look like.

``GET {base}/`` sets the ``csrftoken`` cookie. ``POST {base}/generate_response/`` carries
``Cookie: csrftoken=T``, ``X-CSRFToken: T``, ``Origin``, ``Referer`` and the body
``{"messages": [{"role": ..., "content": ...}, ...]}``, and gets ``{"response": "<text>"}``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

import attrs

try:  # the server extra's faster JSON, where installed; the stdlib's reading stays the rule
    import orjson
except ImportError:  # pragma: no cover - without the server extra
    orjson = None  # type: ignore[assignment]

from voigpt.adapters.site.answers import excerpt
from voigpt.domain.errors import InvalidInput, MalformedReply, TokenUnavailable
from voigpt.domain.values import AccessToken, Conversation

TOKEN_PATH = "/"
COMPLETION_PATH = "/generate_response/"
TOKEN_COOKIE = "csrftoken"
TOKEN_HEADER = "X-CSRFToken"

BROWSER_HEADERS = {
    "User-Agent": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
    ),
    "Accept-Language": "en-US,en;q=0.9",
}
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
PAGE_HEADERS = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}

@attrs.frozen
class Answer:
    """A whole answer: ``body`` as sent, ``text`` its UTF-8 reading for messages."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    cookies: Mapping[str, str]

    @property
    def text(self) -> str:
        return self.body.decode("utf-8-sig", errors="replace")


def origin_of(url: str) -> str:
    """``scheme://host[:port]``: what a browser sends as Origin for pages under ``url``; a
    default port is left out, as browsers (and the Host header) do."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if (parts.scheme, parts.port) in (("http", 80), ("https", 443)):
        netloc = netloc.rpartition(":")[0]
    return f"{parts.scheme}://{netloc}"


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
    if orjson is not None:  # the same bytes: compact, UTF-8, only what JSON must escape
        return orjson.dumps({"messages": conversation.to_dicts()})
    return _ENCODER.encode({"messages": conversation.to_dicts()}).encode("utf-8")


def decode_reply(
    body: bytes | str,
    *,
    where: str = "the reply",
    status: int | None = None,
    secrets: Iterable[str] = (),
) -> str:
    """The reply text, or ``MalformedReply`` with an excerpt of the body. The body is read
    as JSON is, as UTF-8 (a BOM tolerated), whatever the Content-Type said."""
    raw = body if isinstance(body, bytes) else body.encode("utf-8", errors="surrogatepass")
    if orjson is not None:
        # orjson reads strict JSON only: what it reads, the stdlib reads the same; anything
        # else (a BOM, NaN, a lone surrogate, huge numbers, bad bytes) is the stdlib's to
        # read or to refuse with its message.
        try:
            found = orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
        else:
            if type(found) is dict and type(found.get("response")) is str:
                return str(found["response"])

    def malformed(problem: str) -> MalformedReply:
        shown = excerpt(raw.decode("utf-8-sig", errors="replace"), secrets)
        return MalformedReply(f"{where} {problem}", status=status, excerpt=shown or "<empty body>")

    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise malformed("is not UTF-8") from None
    except RecursionError:
        raise malformed("is JSON nested too deeply") from None
    except ValueError:
        raise malformed("is not JSON") from None
    if not isinstance(data, dict) or "response" not in data:
        raise malformed('has no "response" field')
    text = data["response"]
    if not isinstance(text, str):
        raise malformed(f'has a "response" of type {type(text).__name__}, not a string')
    return text


def exchange_secrets(
    headers: Mapping[str, str], cookies: Mapping[str, str] | None, known: Iterable[str]
) -> set[str]:
    """What must never show in an error about an exchange: the token and cookies sent
    (``headers``) and received (``cookies``), and the ``known`` ones (proxy credentials)."""
    cookie = headers.get("Cookie", "")
    secrets = {headers.get(TOKEN_HEADER, ""), cookie, *(cookies or {}).values(), *known}
    secrets |= {part.partition("=")[2] for part in cookie.split(";")}
    return {secret.strip() for secret in secrets if len(secret.strip()) >= 3}


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
