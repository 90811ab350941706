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
    """Base of everything voigpt raises on purpose; a ``RuntimeError``. Catch it to catch
    every failure voigpt knows of. Its message never holds a token, a cookie or a proxy
    password.

    :param message: what went wrong, and what to do about it.
    :param status: the HTTP status of the site's answer, when the error comes from one.
    :param excerpt: a bounded, scrubbed part of the answer's body; when given, it is
        appended to the message as ``(server said: '...')``.
    :ivar status: the HTTP status, or ``None`` (no answer, or not an HTTP error).
    :ivar excerpt: the excerpt of the answer, or ``""``.
    """

    def __init__(self, message: str, *, status: int | None = None, excerpt: str = "") -> None:
        self.status = status
        self.excerpt = excerpt
        if excerpt:
            message = f"{message} (server said: {excerpt!r})"
        super().__init__(message)


class InvalidInput(VoiGptError, ValueError):
    """An argument is wrong; nothing was sent. Also a ``ValueError``. Raised before any
    network I/O, so it is never retried."""


class InvalidMessages(InvalidInput):
    """The conversation is not a non-empty list of ``{"role", "content"}`` dicts (or the
    OpenAI shapes ``Client.complete`` takes): an unknown role, a missing or non-string
    content, text that cannot be encoded as UTF-8, or no message at all. The message names
    the index of the first bad one."""


class InvalidProxy(InvalidInput):
    """The proxy URL cannot be used: a scheme other than ``http``, ``https``, ``socks5`` or
    ``socks5h``, no host, or a bad port. The message never shows its password."""


class InvalidConfig(InvalidInput):
    """A setting cannot be used: an unknown name, or a value out of range or of the wrong
    kind (base URL, timeout, backend, retries...). The message names the setting and where
    it came from (a keyword, a ``--flag`` or a ``$VOIGPT_*`` variable)."""


class TokenUnavailable(VoiGptError):
    """The site did not hand out a csrftoken: ``GET /`` answered without the
    ``csrftoken`` cookie. Not retried."""


class AccessRejected(VoiGptError):
    """The service refused the CSRF token (HTTP 403). A token voigpt fetched is replaced
    once, and the request sent again, before this is raised.

    :ivar explicit: ``True`` when the refused token was the one you passed
        (``access_token=``); voigpt never replaces such a token. Get a fresh one, or pass
        none and let voigpt fetch it.
    """

    def __init__(
        self, message: str, *, status: int | None = 403, excerpt: str = "", explicit: bool = False
    ) -> None:
        self.explicit = explicit
        super().__init__(message, status=status, excerpt=excerpt)


class RateLimited(VoiGptError):
    """HTTP 429: too many requests. Retried while retries are left, after the server's
    hint (at most 60 s) or else the usual backoff, within the call's deadline.

    :ivar retry_after: the server's ``Retry-After`` hint in seconds, or ``None`` when it
        gave none.
    """

    def __init__(
        self, message: str, *, status: int | None = 429, excerpt: str = "",
        retry_after: float | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, status=status, excerpt=excerpt)


class ServiceUnavailable(VoiGptError):
    """The service answered with a 5xx status. A 502, 503 or 504 is retried with backoff
    while retries are left; a 500 is not."""


class ConnectionFailed(VoiGptError):
    """No usable connection: refused, reset, DNS, proxy, or dropped before the reply.
    Retried while retries are left, unless ``answer_began`` (for the completion's POST) or
    the proxy refused its password (``status`` 407).

    :ivar answer_began: some of the answer had arrived when the connection broke (its
        status line, say), so the service may have done the work; a completion is then not
        sent again.
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
    """A connect or read timeout, or the overall deadline of the call (retries and waits
    included), ran out. Not retried. See the ``timeout`` setting."""


class MalformedReply(VoiGptError):
    """A 2xx reply that is not ``{"response": "<text>"}``: not JSON, no ``response``, or
    not a string. Not retried."""


class InvalidModelReply(VoiGptError):
    """Tools or a JSON format were asked for, and the model's reply did not fit them (an
    unknown tool, arguments or an answer that fail their schema, text where a call was
    required), even after one correction. Not retried: the message says what was wrong."""


class ReplyTooLarge(VoiGptError):
    """The reply body was larger than the cap (the ``max_reply_bytes`` setting, 10 MiB by
    default). Not retried."""


class Blocked(VoiGptError):
    """An anti-bot challenge page (Cloudflare's "Just a moment...", say) answered instead
    of the service. Not retried: a client cannot pass it."""


class UnexpectedStatus(VoiGptError):
    """A status the protocol does not describe (any other non-2xx status). Not
    retried."""
