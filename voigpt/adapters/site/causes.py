"""What may be chained to a voigpt error: the original exception, unless its text (or the
text of anything it carries) holds a secret of the exchange; then a scrubbed stand-in.

No HTTP library here: the same rule serves every adapter.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote

from voigpt.adapters.site.answers import scrub

# Where libraries keep the exceptions and objects an exception carries: urllib3's
# ``reason``, aiohttp's ``os_error`` and ``request_info`` (the request's headers, the
# token among them), python-socks' ``socket_err``.
_CARRIED = ("reason", "os_error", "socket_err", "request_info")


class RedactedCause(Exception):
    """Stands in for an exception whose text held a secret: its type and scrubbed text."""


def safe_cause(exc: BaseException, secrets: Iterable[str]) -> BaseException:
    """``exc``, or a ``RedactedCause`` when any of ``secrets`` shows in it or in what it
    carries (its cause, context, arguments; as given or percent-encoded)."""
    secrets = [secret for secret in secrets if secret]
    if not secrets:
        return exc
    chain = exception_chain(exc)
    text = " ".join(_texts(item) for item in chain)
    if not any(secret in text or quote(secret, safe="") in text for secret in secrets):
        return exc
    shown = " <- ".join(f"{type(item).__name__}: {scrub(str(item), secrets)}" for item in chain)
    return RedactedCause(shown)


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


def _texts(item: BaseException) -> str:
    parts = [repr(item), str(item), *(repr(arg) for arg in item.args)]
    parts += [repr(getattr(item, name, None)) for name in _CARRIED]
    parts += [value for value in vars(item).values() if isinstance(value, str)]
    return " ".join(parts)
