"""What an exchange's failure means, in the aiohttp adapter's words (``aiohttp/mapping.py``):
the same voigpt errors and messages, naming the URL, never a header, cookie or token."""

from __future__ import annotations

import asyncio
import contextlib
import http.cookies
import ssl

from voigpt.adapters.httptools.connection import Broken, Read
from voigpt.adapters.site import Answer
from voigpt.domain.errors import (
    ConnectionFailed,
    MalformedReply,
    ReplyTooLarge,
    TimedOut,
    UntrustedCertificate,
    VoiGptError,
)
from voigpt.domain.retry import Deadline


def unconnected(exc: Exception, what: str, url: str, connect: float,
                deadline: Deadline | None) -> VoiGptError:
    """The error of a connection that could not be made (``connect``: its timeout)."""
    if isinstance(exc, asyncio.TimeoutError):
        if deadline is not None and deadline.remaining() <= 0:
            return TimedOut(f"{what}: the {deadline.seconds:g}s deadline passed (timeout)")
        return TimedOut(f"{what}: connecting to {url} timed out after {round(connect, 1):g}s")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return UntrustedCertificate(
            f"{what}: the TLS certificate of {url} is not trusted; if it is signed by a "
            "private CA, point REQUESTS_CA_BUNDLE at that CA's PEM file")
    if isinstance(exc, ssl.SSLError):
        return ConnectionFailed(f"{what}: the TLS handshake with {url} failed")
    return ConnectionFailed(f"{what}: could not connect to {url}, or the connection dropped "
                            "before the reply", answer_began=False)


def broken(failure: Broken, what: str, url: str, read: float, cap: int,
           deadline: Deadline | None) -> VoiGptError:
    """The error of an exchange that ended in ``failure`` (``read``: the read timeout)."""
    if failure.reason == "silent":
        if failure.detail == "bound" and deadline is not None:
            return TimedOut(f"{what}: the {deadline.seconds:g}s deadline passed (timeout)")
        return TimedOut(f"{what}: {url} did not answer within {round(read, 1):g}s")
    if failure.reason == "too-large":
        return ReplyTooLarge(f"{what}: the reply from {url} is larger than the {cap} byte "
                             "cap (max_reply_bytes)", status=failure.status)
    if failure.reason == "not-http":
        return MalformedReply(f"{what}: the answer from {url} could not be read as HTTP "
                              f"({failure.detail})")
    if failure.reason == "mid-reply":
        return ConnectionFailed(f"{what}: the connection to {url} broke mid-reply",
                                answer_began=True)
    return ConnectionFailed(f"{what}: could not connect to {url}, or the connection dropped "
                            "before the reply", answer_began=failure.began)


def answer_of(read: Read) -> Answer:
    """The ``Answer``, with the cookies it set (for the errors to hide)."""
    cookies: dict[str, str] = {}
    for value in read.headers.getall("Set-Cookie", ()):
        jar: http.cookies.SimpleCookie = http.cookies.SimpleCookie()
        with contextlib.suppress(http.cookies.CookieError):
            jar.load(value)
        cookies.update({name: morsel.value for name, morsel in jar.items()})
        if not jar:  # unreadable: its value is still never shown
            cookies[value] = value.partition("=")[2].partition(";")[0]
    return Answer(status=read.status, headers=read.headers, body=read.body, cookies=cookies)
