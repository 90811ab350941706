"""The garbage collector of a ``voigpt serve`` process, settled once the app is up.

A server process holds a large heap that lives as long as it does (FastAPI, pydantic,
aiohttp, the app), and each request makes a few hundred short-lived objects, almost none
of them in reference cycles. With CPython's default thresholds, the collector rescans that
whole start-up heap in a full collection every thousand requests or so: measured under
``benchmarks/server.py`` (32 clients), about 45 µs of CPU a request, as much as the
route's own work. So, once, at start-up: collect, then freeze what is left (it is never
scanned again, as ``gc.freeze`` documents for long-lived processes), and let the young
generation grow to ``YOUNG_THRESHOLD`` objects before it is collected. Cycles are still
collected; the RSS benchmark (20,000 requests) shows the heap does not grow.

Only the ``voigpt serve`` command's processes do this: an app embedded in someone else's
process (``create_app``) leaves their collector alone.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 20_000


def settle_heap() -> None:
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)
