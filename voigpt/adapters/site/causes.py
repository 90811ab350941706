"""What a voigpt error may hold of the library exception it stands for: an account of its
chain (the exceptions' types and OS error numbers), never the exception itself. A library's
exception carries the request (aiohttp's ``request_info``, requests' ``.request``: the
cookie and the ``X-CSRFToken`` among their headers) and text the server sent; an error
reporter that walks ``__cause__`` and ``__context__`` (Sentry does) would ship them.

No HTTP library here: the same rule serves every adapter.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from voigpt.domain.errors import VoiGptError

# Where libraries keep the exceptions and objects an exception carries: urllib3's
# ``reason``, aiohttp's ``os_error`` and ``request_info`` (the request's headers, the
# token among them), python-socks' ``socket_err``.
_CARRIED = ("reason", "os_error", "socket_err", "request_info")


class RedactedCause(Exception):
    """Stands in for a library's exception: the types of its chain, with OS error numbers,
    and nothing the exception carried or said."""


def account(exc: BaseException) -> RedactedCause:
    """A ``RedactedCause`` for ``exc``: e.g. ``aiohttp.client_exceptions.ClientOSError
    [Errno 104] Connection reset by peer <- ConnectionResetError [Errno 104] ...``."""
    return RedactedCause(" <- ".join(_described(item) for item in exception_chain(exc)))


def safe_cause(exc: BaseException, secrets: Iterable[str] = ()) -> RedactedCause:
    """What to chain to the voigpt error that stands for ``exc``: its ``account``, whatever
    ``secrets`` it may hold (kept for callers that name the exchange's secrets)."""
    return account(exc)


def detach(error: VoiGptError) -> VoiGptError:
    """``error``, holding no library exception: a cause that is one becomes its
    ``account``, and a context that is one is dropped (shown as its account when it was
    shown at all); so for every voigpt error chained to it. Returns ``error``."""
    pending: list[BaseException] = [error]
    seen: list[BaseException] = []
    while pending:
        item = pending.pop()
        if any(item is s for s in seen):
            continue
        seen.append(item)
        cause, context = item.__cause__, item.__context__
        if cause is not None and not _ours(cause):
            item.__cause__ = cause = account(cause)
        if context is not None and not _ours(context):
            shown = not item.__suppress_context__ and context is not cause
            item.__context__ = account(context) if shown else None
        pending.extend(x for x in (item.__cause__, item.__context__) if isinstance(x, VoiGptError))
    return error


class detached_errors:
    """The voigpt errors raised in the block leave it ``detach``ed. A plain context manager,
    not a generator's: it is on every completion's path, where contextlib's costs twice
    as much."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, error: BaseException | None, traceback: object) -> None:
        if isinstance(error, VoiGptError):
            detach(error)  # detached in place; the same error goes on being raised


def exception_chain(exc: BaseException) -> list[BaseException]:
    """``exc``, its causes and contexts, and the exceptions it carries in ``args`` or in
    the attributes libraries keep them in."""
    seen: list[BaseException] = []
    pending: list[object] = [exc]
    while pending:
        item = pending.pop()
        if not isinstance(item, BaseException) or any(item is s for s in seen):
            continue
        seen.append(item)
        pending.extend((item.__cause__, item.__context__, *item.args))
        pending.extend(getattr(item, name, None) for name in _CARRIED)
    return seen


def caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    """Whether ``kind`` is anywhere in ``exc``'s chain."""
    return any(isinstance(item, kind) for item in exception_chain(exc))


def _ours(exc: BaseException) -> bool:
    return isinstance(exc, (VoiGptError, RedactedCause))


def _described(exc: BaseException) -> str:
    kind = type(exc)
    name = kind.__qualname__
    if kind.__module__ != "builtins":
        name = f"{kind.__module__}.{name}"
    number = exc.errno if isinstance(exc, OSError) else None
    if isinstance(number, int) and not isinstance(number, bool):
        return f"{name} [Errno {number}] {os.strerror(number)}"
    return name
