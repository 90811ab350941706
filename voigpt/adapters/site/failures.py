"""The words of an exchange that failed, one sentence for each way it fails, for every
HTTP adapter (requests, aiohttp, httptools): the same failure reads the same whichever
library carried it. Each names what was being done and the URL, with the route through a
(redacted) proxy when there is one, and never a header, cookie or token.

``route`` is ``""`` or `` via proxy URL``; ``answer_began``: some of the answer had
arrived, so a completion is not sent again (``ConnectionFailed``)."""

from __future__ import annotations

from voigpt.domain.errors import (
    ConnectionFailed,
    MalformedReply,
    ReplyTooLarge,
    TimedOut,
    UntrustedCertificate,
)
from voigpt.domain.retry import Deadline


def deadline_passed(what: str, deadline: Deadline) -> TimedOut:
    return TimedOut(f"{what}: the {deadline.seconds:g}s deadline passed (timeout)")


def connect_timed_out(what: str, url: str, route: str, connect: float) -> TimedOut:
    return TimedOut(f"{what}: connecting to {url}{route} timed out after "
                    f"{round(connect, 1):g}s")


def silent(what: str, url: str, read: float) -> TimedOut:
    """Nothing came for ``read`` seconds (the read timeout)."""
    return TimedOut(f"{what}: {url} did not answer within {round(read, 1):g}s")


def untrusted(what: str, whose: str) -> UntrustedCertificate:
    """``whose``: the URL and route, or ``the proxy URL``."""
    return UntrustedCertificate(
        f"{what}: the TLS certificate of {whose} is not trusted; if it is signed by a "
        "private CA, point REQUESTS_CA_BUNDLE at that CA's PEM file")


def handshake_failed(what: str, url: str, route: str, *,
                     answer_began: bool = False) -> ConnectionFailed:
    return ConnectionFailed(f"{what}: the TLS handshake with {url}{route} failed",
                            answer_began=answer_began)


def proxy_failed(what: str, via: str | None, url: str, *,
                 answer_began: bool = False) -> ConnectionFailed:
    return ConnectionFailed(f"{what}: the proxy {via} refused or failed the connection to "
                            f"{url}", answer_began=answer_began)


def unreachable(what: str, url: str, route: str, *,
                answer_began: bool = False) -> ConnectionFailed:
    return ConnectionFailed(f"{what}: could not connect to {url}{route}, or the connection "
                            "dropped before the reply", answer_began=answer_began)


def mid_reply(what: str, url: str, *, answer_began: bool) -> ConnectionFailed:
    return ConnectionFailed(f"{what}: the connection to {url} broke mid-reply",
                            answer_began=answer_began)


def not_http(what: str, url: str, detail: str) -> MalformedReply:
    """The answer could not be read as HTTP; ``detail``: what the parser said, by name."""
    return MalformedReply(f"{what}: the answer from {url} could not be read as HTTP "
                          f"({detail})")


def too_large(what: str, url: str, cap: int, status: int | None) -> ReplyTooLarge:
    return ReplyTooLarge(f"{what}: the reply from {url} is larger than the {cap} byte cap "
                         "(max_reply_bytes)", status=status)
