"""Every emulator fault and the voigpt error it must become, whichever transport meets it
(with ``timeout=2``)."""

from __future__ import annotations

from voigpt.domain.errors import (
    Blocked,
    ConnectionFailed,
    MalformedReply,
    RateLimited,
    ReplyTooLarge,
    ServiceUnavailable,
    TimedOut,
    VoiGptError,
)
from voigpt.emulator import Fault

FAULTS: list[tuple[Fault, dict[str, object], type[VoiGptError], str]] = [
    (Fault.RATE_LIMITED, {"retry_after": "4"}, RateLimited, "HTTP 429"),
    (Fault.SERVER_ERROR, {"status": 500}, ServiceUnavailable, "HTTP 500"),
    (Fault.SERVER_ERROR, {"status": 502}, ServiceUnavailable, "HTTP 502"),
    (Fault.SERVER_ERROR, {"status": 503}, ServiceUnavailable, "HTTP 503"),
    (Fault.HTML_INSTEAD_OF_JSON, {}, MalformedReply, "is not JSON"),
    (Fault.MISSING_RESPONSE, {}, MalformedReply, 'no "response"'),
    (Fault.MISSING_RESPONSE, {"body": {"response": 42}}, MalformedReply, "type int"),
    (Fault.OVERSIZED, {}, ReplyTooLarge, "byte cap"),
    (Fault.DROP_CONNECTION, {}, ConnectionFailed, "could not connect"),
    (Fault.ANTI_BOT, {}, Blocked, "anti-bot"),
    (Fault.ANTI_BOT, {"status": 503}, Blocked, "anti-bot"),
    (Fault.SLOW, {"delay": 5}, TimedOut, "did not answer within 2s"),
]


def fault_id(value: object) -> str | None:
    return value.name if isinstance(value, Fault) else None
