"""The exception boundary of the requests adapter: whatever a call raises becomes the
right voigpt error. Messages name the URL and what to try next, and never include a
header, cookie, token or proxy password."""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Iterator

import requests

from voigpt.adapters.requests.exchange import Progress
from voigpt.adapters.requests.sockets import DeadlinePassed
from voigpt.adapters.site import account, caused_by, failures
from voigpt.domain.errors import TimedOut, VoiGptError
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
            error = failures.deadline_passed(what, deadline)
        raise error from account(exc)  # the context, requests' exception, goes at the port


def _translate(
    exc: Exception, what: str, url: str, connect_timeout: float, read_timeout: float,
    via: str | None, began: bool,
) -> VoiGptError:
    route = f" via proxy {via}" if via else ""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return failures.connect_timed_out(what, url, route, connect_timeout)
    if isinstance(exc, requests.exceptions.ReadTimeout) or caused_by(exc, TimeoutError):
        return failures.silent(what, url, read_timeout)
    if isinstance(exc, requests.exceptions.ProxyError):
        if caused_by(exc, ssl.SSLCertVerificationError):
            return failures.untrusted(what, f"the proxy {via}")
        return failures.proxy_failed(what, via, url, answer_began=began)
    if isinstance(exc, requests.exceptions.SSLError):
        if caused_by(exc, ssl.SSLCertVerificationError):
            return failures.untrusted(what, f"{url}{route}")
        return failures.handshake_failed(what, url, route, answer_began=began)
    if isinstance(exc, requests.exceptions.ConnectionError):
        return failures.unreachable(what, url, route, answer_began=began)
    if isinstance(exc, (OSError, requests.exceptions.ChunkedEncodingError)):
        return failures.mid_reply(what, url, answer_began=began)
    return failures.not_http(what, url, type(exc).__name__)
