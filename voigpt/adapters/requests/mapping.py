"""Translate requests/urllib3 failures into voigpt's errors.

This is the boundary: nothing from requests escapes it. Messages name the URL and what
to try next, and never include a header, cookie, token or proxy password.
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Iterator

import requests
import urllib3.exceptions

from voigpt.domain.errors import (
    ConnectionFailed,
    InvalidConfig,
    TimedOut,
    UntrustedCertificate,
)


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
