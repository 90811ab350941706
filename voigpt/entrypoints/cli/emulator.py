"""``voigpt emulator``: the bundled emulator in the foreground until Ctrl-C or SIGTERM."""

from __future__ import annotations

import os
import shlex
import signal
import socket
import threading
from typing import Any, TextIO

from voigpt.domain.errors import InvalidConfig


def run_emulator(host: str, port: int, *, stdout: TextIO) -> int:
    from voigpt.emulator import Emulator

    stop = threading.Event()

    def request_stop(signum: int, frame: Any) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            emulator = Emulator(host=host, port=port).start()
        except OSError as exc:
            raise unusable_address(host, port, exc) from None
        with emulator:
            print(f"voigpt emulator listening on {emulator.url}", file=stdout, flush=True)
            print("Press Ctrl-C to stop.", file=stdout, flush=True)
            while not stop.wait(0.2):
                pass
        print("voigpt emulator stopped", file=stdout, flush=True)
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def unusable_address(host: str, port: int, exc: OSError) -> InvalidConfig:
    """Why the emulator could not listen, naming the flags: a host that does not resolve,
    else the bind's own reason (a busy port, an address of another machine...)."""
    try:
        socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as failed:
        return InvalidConfig(f"--host {shlex.quote(host)} does not resolve to an address "
                             f"({failed.strerror})")
    except (OSError, UnicodeError):
        pass
    reason = os.strerror(exc.errno) if exc.errno and exc.errno > 0 else str(exc)
    return InvalidConfig(f"cannot listen on --host {shlex.quote(host)} --port {port}: {reason}")
