"""The exchange in progress on this thread: its deadline, which the sockets keep
(``sockets.py``), and its secrets, which urllib3's own log records are scrubbed of.

urllib3 logs at DEBUG and WARNING, with exceptions attached, text the server sent (a header
line it could not parse, for one); a server that echoes the token would have it logged.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterable, Iterator

from voigpt.adapters.site import scrub

_local = threading.local()
_URLLIB3_LOGGERS = ("urllib3.connectionpool", "urllib3.connection", "urllib3.response")


@contextlib.contextmanager
def exchange(expires_at: float, secrets: Iterable[str]) -> Iterator[None]:
    """Within the block, this thread's sockets end by ``expires_at`` (``time.monotonic``)
    and urllib3's log records hold none of ``secrets``."""
    previous = getattr(_local, "expires_at", None), getattr(_local, "secrets", ())
    _local.expires_at, _local.secrets = expires_at, tuple(secrets)
    try:
        yield
    finally:
        _local.expires_at, _local.secrets = previous


def current_deadline() -> float | None:
    expires_at: float | None = getattr(_local, "expires_at", None)
    return expires_at


class _ScrubSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        secrets: tuple[str, ...] = getattr(_local, "secrets", ())
        if not secrets:
            return True
        message = record.getMessage()
        if record.exc_info:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_info, record.exc_text = None, scrub(text, secrets)
        scrubbed = scrub(message, secrets)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return True


_FILTER = _ScrubSecrets()
for _name in _URLLIB3_LOGGERS:
    if _FILTER not in logging.getLogger(_name).filters:
        logging.getLogger(_name).addFilter(_FILTER)
