"""Every error voigpt raises. Adapters translate third-party exceptions into these.

The tree::

    RuntimeError
     └── VoiGptError                      base: code that catches RuntimeError catches it
          ├── InvalidInput (+ ValueError) bad arguments, raised before any network I/O
          │    ├── InvalidMessages         the conversation is not a list of role/content dicts
          │    ├── InvalidProxy            unknown proxy scheme, no host, bad port
          │    └── InvalidConfig           a setting (base URL, timeout, backend...) is wrong
          ├── TokenUnavailable             GET / did not set a csrftoken cookie
          ├── AccessRejected               403 CSRF failure: the token was refused
          ├── RateLimited                  429; carries ``retry_after`` seconds (or None)
          ├── ServiceUnavailable           5xx from the service
          ├── ConnectionFailed             DNS, refused, reset, proxy failures, dropped mid-reply;
          │                                ``answer_began`` when some of the answer had come
          │    └── UntrustedCertificate    the site's or https proxy's TLS certificate is untrusted
          ├── TimedOut                     connect/read timeout or the overall deadline passed
          ├── MalformedReply               not JSON, no ``response``, or not a string
          ├── InvalidModelReply            asked for tools or a JSON format, the model's reply
          │                                did not fit, even after one correction
          ├── ReplyTooLarge                the body exceeded the size cap
          ├── Blocked                      an anti-bot challenge page answered instead
          └── UnexpectedStatus             any other non-2xx status

Messages never contain a token, a cookie or a proxy password. Errors that come from an
HTTP answer carry ``status`` and a bounded ``excerpt`` of the body (made by the adapter).
"""

from __future__ import annotations


class VoiGptError(RuntimeError):
    """Base of everything voigpt raises on purpose. ``excerpt`` is the bounded
    part of the server's answer that the adapter chose to show."""

    def __init__(self, message: str, *, status: int | None = None, excerpt: str = "") -> None:
        self.status = status
        self.excerpt = excerpt
        if excerpt:
            message = f"{message} (server said: {excerpt!r})"
        super().__init__(message)


class InvalidInput(VoiGptError, ValueError):
    """An argument is wrong; nothing was sent."""


class InvalidMessages(InvalidInput):
    """The conversation is not a non-empty list of {role, content} dicts."""


class InvalidProxy(InvalidInput):
    """The proxy URL cannot be used."""


class InvalidConfig(InvalidInput):
    """A setting cannot be used."""


class TokenUnavailable(VoiGptError):
    """The site did not hand out a csrftoken."""


class AccessRejected(VoiGptError):
    """The service refused the CSRF token (HTTP 403)."""

    def __init__(
        self, message: str, *, status: int | None = 403, excerpt: str = "", explicit: bool = False
    ) -> None:
        self.explicit = explicit
        super().__init__(message, status=status, excerpt=excerpt)


class RateLimited(VoiGptError):
    """HTTP 429. ``retry_after`` is the server's hint in seconds, when it gave one."""

    def __init__(
        self, message: str, *, status: int | None = 429, excerpt: str = "",
        retry_after: float | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, status=status, excerpt=excerpt)


class ServiceUnavailable(VoiGptError):
    """The service answered with a 5xx status."""


class ConnectionFailed(VoiGptError):
    """No usable connection: refused, reset, DNS, proxy, or dropped before the reply.

    ``answer_began``: some of the answer had arrived when the connection broke (its status
    line, say), so the service may have done the work; a completion is then not sent again.
    """

    def __init__(
        self, message: str, *, status: int | None = None, excerpt: str = "",
        answer_began: bool = False,
    ) -> None:
        self.answer_began = answer_began
        super().__init__(message, status=status, excerpt=excerpt)


class UntrustedCertificate(ConnectionFailed):
    """The server's (or an https proxy's) TLS certificate failed verification. Not retried:
    trying again gives the same answer. Trust a private CA with ``REQUESTS_CA_BUNDLE``."""


class TimedOut(VoiGptError):
    """A connect or read timeout, or the overall deadline, ran out."""


class MalformedReply(VoiGptError):
    """A 2xx reply that is not ``{"response": "<text>"}``."""


class InvalidModelReply(VoiGptError):
    """Tools or a JSON format were asked for, and the model's reply did not fit them (an
    unknown tool, arguments or an answer that fail their schema, text where a call was
    required), even after one correction. Not retried: the message says what was wrong."""


class ReplyTooLarge(VoiGptError):
    """The reply body was larger than the configured cap."""


class Blocked(VoiGptError):
    """An anti-bot challenge page answered instead of the service."""


class UnexpectedStatus(VoiGptError):
    """A status the protocol does not describe."""
