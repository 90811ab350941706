"""``running_emulator``: an Emulator started for the duration of a ``with`` block."""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterator
from contextlib import contextmanager

from voigpt.emulator.server import Emulator


@contextmanager
def running_emulator(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    control: bool = False,
    logger: logging.Logger | None = None,
    tls: ssl.SSLContext | None = None,
) -> Iterator[Emulator]:
    """Yield a started ``Emulator`` (same arguments), stopping it on exit."""
    emulator = Emulator(host, port, control=control, logger=logger, tls=tls).start()
    try:
        yield emulator
    finally:
        emulator.stop()
