"""``voigpt emulator``: the bundled emulator in the foreground until Ctrl-C or SIGTERM."""

from __future__ import annotations

import signal
import threading
from typing import Any, TextIO


def run_emulator(host: str, port: int, *, stdout: TextIO) -> int:
    from voigpt.emulator import Emulator

    stop = threading.Event()

    def request_stop(signum: int, frame: Any) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with Emulator(host=host, port=port) as emulator:
            print(f"voigpt emulator listening on {emulator.url}", file=stdout, flush=True)
            print("Press Ctrl-C to stop.", file=stdout, flush=True)
            while not stop.wait(0.2):
                pass
        print("voigpt emulator stopped", file=stdout, flush=True)
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
