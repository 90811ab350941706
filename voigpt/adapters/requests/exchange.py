"""The exchange in progress on this thread: its deadline, which the sockets keep
(``sockets.py``), its secrets, which urllib3's own log records are scrubbed of, and its
progress: whether its answer has begun (``connections.py`` notes it).

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


class Progress:
    """How far the exchange got: ``answer_began`` once the first byte of its answer arrived
    (noted by ``connections.py``), after which the request may have been processed."""

    __slots__ = ("answer_began",)

    def __init__(self) -> None:
        self.answer_began = False


@contextlib.contextmanager
def exchange(expires_at: float, secrets: Iterable[str]) -> Iterator[Progress]:
    """Within the block, this thread's sockets end by ``expires_at`` (``time.monotonic``)
    and urllib3's log records hold none of ``secrets``; the block gets the exchange's
    ``Progress``."""
    previous = (
        getattr(_local, "expires_at", None), getattr(_local, "secrets", ()),
        getattr(_local, "progress", None),
    )
    progress = Progress()
    _local.expires_at, _local.secrets, _local.progress = expires_at, tuple(secrets), progress
    try:
        yield progress
    finally:
        _local.expires_at, _local.secrets, _local.progress = previous


def current_deadline() -> float | None:
    expires_at: float | None = getattr(_local, "expires_at", None)
    return expires_at


def answer_began() -> None:
    """The first byte of the answer to this thread's exchange has arrived."""
    progress: Progress | None = getattr(_local, "progress", None)
    if progress is not None:
        progress.answer_began = True


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
