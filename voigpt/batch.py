"""``voigpt.batch``: an OpenAI Batch JSONL file of chat completions, run from Python,
resumably. The same runner as ``voigpt batch``.

::

    import voigpt.batch

    summary = voigpt.batch.run("requests.jsonl", "results.jsonl", concurrency=16)
    print(summary.line())          # voigpt batch: 5000/5000 done, 0 failed, 52.3 s
    assert summary.exit_code == 0  # 1: some failed, see summary.errors; 130: stopped

Successes are appended to ``output``, failures of this run to ``errors`` (by default
``output``'s name with ``.errors.jsonl``). Calling it again with the same files resumes:
ids already in ``output`` are skipped, failed ones are tried again. The input is checked
whole before anything is sent (``BadInputFile`` lists the bad lines).

Settings are ``AsyncClient``'s keywords (``base_url=``, ``proxy=``, ``timeout=``,
``retries=``, ``backend=``...; else ``VOIGPT_*``), or pass ``client=`` (an ``AsyncClient``,
left open). ``progress`` is called with a ``BatchProgress`` after each result and once a
second. ``arun`` is the coroutine; setting its ``stop`` event stops starting requests, gives
those in flight ``grace`` seconds, and returns a summary with ``interrupted`` set.

``state`` (``"sqlite:///PATH"``, ``"redis://HOST:PORT/DB"``; default ``"memory"``, the run
alone) shares the site's pace with the servers and batches on that state, as ``voigpt batch
--state`` does: a 429 any of them gets pauses the others' starts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from os import PathLike
from pathlib import Path
from typing import Any

from voigpt.async_client import AsyncClient
from voigpt.config import Settings
from voigpt.container import container_for
from voigpt.domain.errors import InvalidConfig
from voigpt.domain.state_location import StateLocation, parse_state
from voigpt.entrypoints.batch.journal import BadOutputFile
from voigpt.entrypoints.batch.plan import errors_path_for, prepare
from voigpt.entrypoints.batch.progress import BatchProgress
from voigpt.entrypoints.batch.reading import BadInputFile, InputChanged
from voigpt.entrypoints.batch.runner import GRACE, execute
from voigpt.entrypoints.batch.sharing import shared_pace
from voigpt.entrypoints.batch.summary import BatchSummary, WriteFailed
from voigpt.logs import SecretsFilter

__all__ = [
    "BadInputFile", "BadOutputFile", "BatchProgress", "BatchSummary", "InputChanged",
    "WriteFailed", "arun", "errors_path_for", "run",
]

LOGGER = logging.getLogger("voigpt.batch")
StrPath = str | PathLike[str]


def run(
    input: StrPath, output: StrPath, *, errors: StrPath | None = None, concurrency: int = 8,
    rate: float | None = None, client: AsyncClient | None = None,
    progress: Callable[[BatchProgress], None] | None = None, grace: float = GRACE,
    state: str | StateLocation | None = None, **settings: Any,
) -> BatchSummary:
    """``arun`` in a new event loop."""
    return asyncio.run(arun(input, output, errors=errors, concurrency=concurrency, rate=rate,
                            client=client, progress=progress, grace=grace, state=state,
                            **settings))


async def arun(
    input: StrPath, output: StrPath, *, errors: StrPath | None = None, concurrency: int = 8,
    rate: float | None = None, client: AsyncClient | None = None,
    progress: Callable[[BatchProgress], None] | None = None, stop: asyncio.Event | None = None,
    grace: float = GRACE, state: str | StateLocation | None = None, **settings: Any,
) -> BatchSummary:
    """Run the file; see the module's documentation."""
    if client is not None and settings:
        raise TypeError("pass either client= or settings, not both")
    check_pacing(concurrency, rate)
    location = None if state is None else parse_state(state, "state")
    secrets = SecretsFilter()
    secrets.remember(location.password if location is not None else None)
    own = client
    if own is None:
        loaded = Settings.load(**settings)  # checked before any file is touched; no I/O
        secrets.remember(loaded.access_token.value if loaded.access_token else None,
                         loaded.proxy.password if loaded.proxy else None)
        own = AsyncClient(container=container_for(loaded))
    try:
        plan = prepare(Path(input), Path(output), Path(errors) if errors is not None else None)
        try:
            if plan.journal.torn is not None:
                LOGGER.warning("%s ended with a torn line (line %d, %d bytes): removed; that "
                               "request is sent again", plan.output, plan.journal.torn.line,
                               plan.journal.torn.size)
            async with shared_pace(own, location) as pace:
                return await execute(plan, own, concurrency=concurrency, rate=rate,
                                     progress=progress, scrub=secrets.scrub, stop=stop,
                                     grace=grace, pace=pace)
        finally:
            plan.close()
    finally:
        if client is None:
            await own.aclose()


def check_pacing(concurrency: int, rate: float | None) -> None:
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise InvalidConfig(f"concurrency must be a whole number >= 1, got {concurrency!r}")
    if rate is not None and (isinstance(rate, bool) or not isinstance(rate, (int, float))
                             or not 0 < rate < float("inf")):
        raise InvalidConfig(f"rate must be a positive number per second, got {rate!r}")
