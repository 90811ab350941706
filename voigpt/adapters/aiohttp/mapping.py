"""The exception boundary of the aiohttp adapter: whatever aiohttp, aiohttp-socks or asyncio
raise during an exchange becomes the right voigpt error. Messages name the URL (and the
redacted proxy) and what to try next, never a header, cookie, token or proxy password.
``asyncio.CancelledError`` is not an ``Exception``: it is never caught here."""

from __future__ import annotations

import asyncio
import ssl
import sys

import aiohttp

from voigpt.adapters.site import caused_by, exception_chain, failures
from voigpt.domain.errors import ConnectionFailed, TimedOut, VoiGptError
from voigpt.domain.proxy import ProxyUrl
from voigpt.domain.retry import Deadline

__all__ = ["translate"]

_SOCKS_LIBRARIES = frozenset({"aiohttp_socks", "python_socks"})


def translate(
    exc: Exception,
    *,
    what: str,
    url: str,
    connect_timeout: float,
    read_timeout: float,
    proxy: ProxyUrl | None,
    deadline: Deadline | None,
    answer_began: bool = False,
) -> VoiGptError:
    """The voigpt error for ``exc``, raised by an exchange bounded by the deadline (or by
    connect + read without one) as a whole, and by the connect and read timeouts.
    ``answer_began``: some of the answer had arrived (``connections.AnswerWatch``); a broken
    connection says so, for the retry policy."""
    via = proxy.redacted() if proxy is not None else None
    route = f" via proxy {via}" if via else ""
    timed_out = _timed_out(exc, what, url, route, (connect_timeout, read_timeout), deadline)
    if timed_out is not None:
        return timed_out
    if caused_by(exc, ssl.SSLCertVerificationError):
        whose = f"the proxy {via}" if _at_proxy(exc, proxy) else f"{url}{route}"
        return failures.untrusted(what, whose)
    if isinstance(exc, aiohttp.ClientHttpProxyError) and exc.status == 407:
        return ConnectionFailed(
            f"{what}: the proxy {via} refused to forward to {url} (HTTP 407 Proxy "
            "Authentication Required); check the user and password in the proxy URL",
            status=407, answer_began=answer_began,
        )
    if isinstance(exc, (aiohttp.ClientProxyConnectionError, aiohttp.ClientHttpProxyError)) or (
        _raised_in_socks(exc)
    ):
        return failures.proxy_failed(what, via, url, answer_began=answer_began)
    if isinstance(exc, aiohttp.ClientSSLError) or caused_by(exc, ssl.SSLError):
        return failures.handshake_failed(what, url, route, answer_began=answer_began)
    if isinstance(exc, aiohttp.ClientPayloadError):
        return failures.mid_reply(what, url, answer_began=answer_began)
    if isinstance(exc, aiohttp.ClientResponseError):  # the answer's head was not HTTP
        return failures.not_http(what, url, _inner_name(exc))
    if isinstance(exc, (aiohttp.ClientConnectionError, aiohttp.InvalidURL, OSError)):
        return failures.unreachable(what, url, route, answer_began=answer_began)
    return failures.not_http(what, url, type(exc).__name__)


def _timed_out(
    exc: Exception, what: str, url: str, route: str, timeouts: tuple[float, float],
    deadline: Deadline | None,
) -> TimedOut | None:
    """Which bound ran out: the read timeout (nothing came), the connect timeout, or the
    exchange's own (aiohttp's ``total``: the deadline). aiohttp reports ``total`` running
    out while connecting as a connect timeout; the deadline tells them apart."""
    connecting = isinstance(exc, aiohttp.ConnectionTimeoutError) or _socks_timeout(exc)
    if not (connecting or isinstance(exc, asyncio.TimeoutError)):
        return None
    connect_timeout, read_timeout = timeouts
    if isinstance(exc, aiohttp.SocketTimeoutError):
        return failures.silent(what, url, read_timeout)
    if deadline is not None and (not connecting or deadline.remaining() <= 0):
        return failures.deadline_passed(what, deadline)
    if connecting:
        return failures.connect_timed_out(what, url, route, connect_timeout)
    return failures.silent(what, url, read_timeout)


def _socks_timeout(exc: BaseException) -> bool:
    """A SOCKS handshake timed out. The SOCKS libraries are loaded only once a SOCKS proxy
    is used (``socks.py``); until then nothing can have raised their errors."""
    for name in _SOCKS_LIBRARIES:
        kind = getattr(sys.modules.get(name), "ProxyTimeoutError", None)
        if isinstance(kind, type) and isinstance(exc, kind):
            return True
    return False


def _at_proxy(exc: BaseException, proxy: ProxyUrl | None) -> bool:
    """Whether the certificate that failed was the (https) proxy's, not the site's."""
    if proxy is None or proxy.scheme != "https":
        return False
    for item in exception_chain(exc):
        if isinstance(item, aiohttp.ClientConnectorError):
            return (item.host.strip("[]"), item.port) == (proxy.host, proxy.port)
    return isinstance(exc, aiohttp.ClientProxyConnectionError)


def _raised_in_socks(exc: BaseException) -> bool:
    """Whether ``exc`` was raised inside the SOCKS libraries (during the proxy handshake):
    they let some exceptions through unwrapped, e.g. ``asyncio.IncompleteReadError`` when the
    proxy hangs up on a wrong password."""
    frame = exc.__traceback__
    while frame is not None:
        module = str(frame.tb_frame.f_globals.get("__name__", ""))
        if module.partition(".")[0] in _SOCKS_LIBRARIES:
            return True
        frame = frame.tb_next
    return False


def _inner_name(exc: BaseException) -> str:
    cause = exc.__cause__
    return type(cause if cause is not None else exc).__name__
