"""``voigpt serve`` as ``benchmarks/instructions.py`` runs it under callgrind: the very command
(``python -m benchmarks.instructions_serve serve ...`` takes ``python -m voigpt serve ...``'s
arguments) with one thing changed, the disconnect watch's delay.

Why: a completion still running ``WATCH_AFTER`` seconds (20 ms,
``voigpt/entrypoints/server/disconnect.py``) starts a watcher for its client going away. At
full speed against the instant stand-in upstream a completion takes well under a
millisecond and no watcher ever starts; under valgrind everything runs about 50 times
slower, so every completion would outlive 20 ms and pay for a watcher it never pays for in
real use. Raised to an hour here, the timer is still set and cancelled on every completion,
as at full speed, and never fires. Nothing else is patched.
"""

from __future__ import annotations

import sys

import voigpt.entrypoints.server.disconnect as disconnect
from voigpt.__main__ import main

LATE = 3600.0  # seconds: no completion under valgrind gets near it


def run(argv: list[str]) -> int:
    # Fail loudly if the knob moved: silently not raising it would count watchers again.
    if not hasattr(disconnect, "WATCH_AFTER"):
        raise RuntimeError("voigpt.entrypoints.server.disconnect.WATCH_AFTER is gone: "
                           "benchmarks/instructions_serve.py must follow it")
    disconnect.WATCH_AFTER = LATE
    sys.argv = ["voigpt", *argv]
    return main()


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
