"""Translate requests/urllib3 failures and unwanted HTTP statuses into voigpt's errors.

This is the boundary: nothing from requests escapes it. Messages name the URL and what
to try next, and never include a header, cookie, token or proxy password.
"""

from __future__ import annotations

import contextlib
import email.utils
import re
import ssl
import time
from collections.abc import Iterator, Mapping

import requests
import urllib3.exceptions

from voigpt.domain.errors import (
    AccessRejected,
    Blocked,
    ConnectionFailed,
    InvalidConfig,
    RateLimited,
    ServiceUnavailable,
    TimedOut,
    UnexpectedStatus,
    UntrustedCertificate,
)

_CHALLENGE_MARKERS = re.compile(
    r"just a moment|cf-challenge|challenge-platform|checking your browser|captcha|"
    r"attention required|ddos-guard|are you a robot|verify you are human",
    re.IGNORECASE,
)
RETRY_AFTER_CAP = 300.0


@contextlib.contextmanager
def mapped_exceptions(
    what: str, url: str, *, connect_timeout: float, read_timeout: float, via: str | None
) -> Iterator[None]:
    """Run a requests call, re-raising its exceptions as voigpt errors.

    ``what`` says what was being done ("fetching a token"), ``via`` is the redacted proxy.
    """
    route = f" via proxy {via}" if via else ""
    try:
        yield
    except requests.exceptions.ConnectTimeout as exc:
        raise TimedOut(
            f"{what}: connecting to {url}{route} timed out after {round(connect_timeout, 1):g}s"
        ) from exc
    except requests.exceptions.ReadTimeout as exc:
        raise TimedOut(
            f"{what}: {url} did not answer within {round(read_timeout, 1):g}s"
        ) from exc
    except requests.exceptions.ProxyError as exc:
        if _caused_by(exc, ssl.SSLCertVerificationError):
            raise _untrusted(what, f"the proxy {via}") from exc
        raise ConnectionFailed(
            f"{what}: the proxy {via} refused or failed the connection to {url}"
        ) from exc
    except requests.exceptions.SSLError as exc:
        if _caused_by(exc, ssl.SSLCertVerificationError):
            raise _untrusted(what, f"{url}{route}") from exc
        raise ConnectionFailed(f"{what}: the TLS handshake with {url}{route} failed") from exc
    except requests.exceptions.ConnectionError as exc:
        cause = exc.args[0] if exc.args else None
        if isinstance(cause, urllib3.exceptions.ReadTimeoutError):
            raise TimedOut(
                f"{what}: {url} stopped sending for more than {round(read_timeout, 1):g}s"
            ) from exc
        raise ConnectionFailed(
            f"{what}: could not connect to {url}{route}, or the connection dropped "
            "before the reply"
        ) from exc
    except (
        requests.exceptions.ChunkedEncodingError,
        requests.exceptions.ContentDecodingError,
    ) as exc:
        raise ConnectionFailed(f"{what}: the connection to {url} broke mid-reply") from exc
    except (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema) as exc:
        raise InvalidConfig(f"{what}: {url} is not a usable URL") from exc
    except requests.exceptions.RequestException as exc:
        raise ConnectionFailed(
            f"{what}: the request to {url} failed ({type(exc).__name__})"
        ) from exc


def _untrusted(what: str, whose: str) -> UntrustedCertificate:
    return UntrustedCertificate(
        f"{what}: the TLS certificate of {whose} is not trusted; if it is signed by a "
        "private CA, point REQUESTS_CA_BUNDLE at that CA's PEM file"
    )


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    """Whether ``kind`` is anywhere in the chain of causes, or among the args of the
    requests/urllib3 exceptions that wrap it (urllib3 puts the reason in ``args``)."""
    seen: set[int] = set()
    pending: list[object] = [exc]
    while pending:
        item = pending.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        if isinstance(item, kind):
            return True
        seen.add(id(item))
        pending.extend((item.__cause__, item.__context__, *item.args))
        pending.append(getattr(item, "reason", None))
    return False


def raise_for_status(
    status: int,
    headers: Mapping[str, str],
    body: str,
    *,
    what: str,
    url: str,
    via: str | None = None,
) -> None:
    """Raise the voigpt error for a non-2xx answer; return for 2xx."""
    if 200 <= status < 300:
        return
    if status in (403, 503) and looks_like_challenge(headers, body):
        raise Blocked(
            f"{what}: {url} answered with an anti-bot challenge page (HTTP {status}); "
            "pass a token from a browser session with --access-token, or try --proxy",
            status=status,
            body=body,
        )
    if status == 403:
        raise AccessRejected(
            f"{what}: {url} rejected the CSRF token (HTTP 403)", status=status, body=body
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
            status=status,
            body=body,
            retry_after=retry_after,
        )
    if 500 <= status < 600:
        raise ServiceUnavailable(
            f"{what}: {url} is failing (HTTP {status}); try again later", status=status, body=body
        )
    if 300 <= status < 400:
        raise UnexpectedStatus(
            f"{what}: {url} redirected (HTTP {status}) to {headers.get('Location', '?')!r}; "
            "check the base URL",
            status=status,
        )
    raise UnexpectedStatus(f"{what}: {url} answered HTTP {status}", status=status, body=body)


def looks_like_challenge(headers: Mapping[str, str], body: str) -> bool:
    if headers.get("cf-mitigated", "").lower() == "challenge":
        return True
    content_type = headers.get("Content-Type", "")
    return "html" in content_type.lower() and bool(_CHALLENGE_MARKERS.search(body[:20000]))


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), capped."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), RETRY_AFTER_CAP)
