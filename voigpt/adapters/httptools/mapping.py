"""What an exchange's failure means: the voigpt error the aiohttp adapter gives for the same
failure (``aiohttp/mapping.py``), in the words every adapter shares (``site/failures``)."""

from __future__ import annotations

import asyncio
import contextlib
import http.cookies
import ssl

from voigpt.adapters.httptools.connection import Broken, Read
from voigpt.adapters.site import Answer, failures
from voigpt.domain.errors import VoiGptError
from voigpt.domain.retry import Deadline


def unconnected(exc: Exception, what: str, url: str, connect: float,
                deadline: Deadline | None) -> VoiGptError:
    """The error of a connection that could not be made (``connect``: its timeout)."""
    if isinstance(exc, asyncio.TimeoutError):
        if deadline is not None and deadline.remaining() <= 0:
            return failures.deadline_passed(what, deadline)
        return failures.connect_timed_out(what, url, "", connect)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return failures.untrusted(what, url)
    if isinstance(exc, ssl.SSLError):
        return failures.handshake_failed(what, url, "")
    return failures.unreachable(what, url, "")


def broken(failure: Broken, what: str, url: str, read: float, cap: int,
           deadline: Deadline | None) -> VoiGptError:
    """The error of an exchange that ended in ``failure`` (``read``: the read timeout)."""
    if failure.reason == "silent":
        if failure.detail == "bound" and deadline is not None:
            return failures.deadline_passed(what, deadline)
        return failures.silent(what, url, read)
    if failure.reason == "too-large":
        return failures.too_large(what, url, cap, failure.status)
    if failure.reason == "not-http":
        return failures.not_http(what, url, failure.detail)
    if failure.reason == "mid-reply":
        return failures.mid_reply(what, url, answer_began=True)
    return failures.unreachable(what, url, "", answer_began=failure.began)


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
