"""The exception boundary of the requests adapter: whatever a call raises becomes the
right voigpt error. Messages name the URL and what to try next, and never include a
header, cookie, token or proxy password."""

from __future__ import annotations

import contextlib
import functools
import ssl
from collections.abc import Iterator

import requests

from voigpt.adapters.requests.exchange import Progress
from voigpt.adapters.requests.sockets import DeadlinePassed
from voigpt.adapters.site import account, caused_by
from voigpt.domain.errors import (
    ConnectionFailed,
    MalformedReply,
    TimedOut,
    UntrustedCertificate,
    VoiGptError,
)
from voigpt.domain.retry import Deadline


@contextlib.contextmanager
def mapped_exceptions(
    what: str,
    url: str,
    *,
    connect_timeout: float,
    read_timeout: float,
    via: str | None,
    deadline: Deadline | None = None,
    progress: Progress | None = None,
) -> Iterator[None]:
    """Run a requests call, re-raising whatever it raises as a voigpt error.

    ``what`` says what was being done ("fetching a token"), ``via`` is the redacted proxy,
    ``progress`` how far the answer got (a broken connection says whether it had begun).
    What is chained is an ``account`` of the original exception, never the exception (its
    ``.request`` holds the token); the transports drop the context (``detached_errors``).
    """
    try:
        yield
    except VoiGptError:
        raise
    except Exception as exc:
        began = progress is not None and progress.answer_began
        error = _translate(exc, what, url, connect_timeout, read_timeout, via, began)
        if isinstance(error, TimedOut) and deadline is not None and caused_by(exc, DeadlinePassed):
            error = TimedOut(f"{what}: the {deadline.seconds:g}s deadline passed (timeout)")
        raise error from account(exc)  # the context, requests' exception, goes at the port


def _translate(
    exc: Exception, what: str, url: str, connect_timeout: float, read_timeout: float,
    via: str | None, answer_began: bool,
) -> VoiGptError:
    failed = functools.partial(ConnectionFailed, answer_began=answer_began)
    route = f" via proxy {via}" if via else ""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return TimedOut(
            f"{what}: connecting to {url}{route} timed out after {round(connect_timeout, 1):g}s"
        )
    if isinstance(exc, requests.exceptions.ReadTimeout) or caused_by(exc, TimeoutError):
        return TimedOut(f"{what}: {url} did not answer within {round(read_timeout, 1):g}s")
    if isinstance(exc, requests.exceptions.ProxyError):
        if caused_by(exc, ssl.SSLCertVerificationError):
            return _untrusted(what, f"the proxy {via}")
        return failed(
            f"{what}: the proxy {via} refused or failed the connection to {url}"
        )
    if isinstance(exc, requests.exceptions.SSLError):
        if caused_by(exc, ssl.SSLCertVerificationError):
            return _untrusted(what, f"{url}{route}")
        return failed(f"{what}: the TLS handshake with {url}{route} failed")
    if isinstance(exc, requests.exceptions.ConnectionError):
        return failed(
            f"{what}: could not connect to {url}{route}, or the connection dropped "
            "before the reply"
        )
    if isinstance(exc, (OSError, requests.exceptions.ChunkedEncodingError)):
        return failed(f"{what}: the connection to {url} broke mid-reply")
    return MalformedReply(
        f"{what}: the answer from {url} could not be read as HTTP ({type(exc).__name__})"
    )


def _untrusted(what: str, whose: str) -> UntrustedCertificate:
    return UntrustedCertificate(
        f"{what}: the TLS certificate of {whose} is not trusted; if it is signed by a "
        "private CA, point REQUESTS_CA_BUNDLE at that CA's PEM file"
    )
