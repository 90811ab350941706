"""``/health`` (the process answers; touches nothing upstream) and ``/health/ready`` (the
site handed out a token within the last ``FRESH`` seconds; if none did, one is asked for
now, by one probe at a time, within ``PROBE_TIMEOUT`` seconds)."""

from __future__ import annotations

import asyncio

from starlette.responses import JSONResponse

from voigpt.async_client import AsyncClient
from voigpt.domain.complete_chat import Observed
from voigpt.domain.errors import VoiGptError
from voigpt.domain.retry import Deadline
from voigpt.entrypoints.server.metrics import ServerMetrics

FRESH = 60.0
PROBE_TIMEOUT = 5.0


class Readiness:
    def __init__(self, client: AsyncClient, metrics: ServerMetrics) -> None:
        self.client, self.metrics = client, metrics
        self._probing = asyncio.Lock()

    async def live(self) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def ready(self) -> JSONResponse:
        if not self._fresh():
            async with self._probing:
                if not self._fresh():
                    problem = await self._probe()
                    if problem is not None:
                        return JSONResponse({"status": "unready", "reason": problem}, 503)
        return JSONResponse({"status": "ready"})

    def _fresh(self) -> bool:
        age = self.metrics.token_age()
        return age is not None and age < FRESH

    async def _probe(self) -> str | None:
        container = self.client.container
        clock = container.async_clock()
        try:
            with Observed(clock, self.metrics.token_fetched):
                await container.async_token_source().fetch(
                    deadline=Deadline.after(clock, PROBE_TIMEOUT)
                )
        except VoiGptError as exc:
            return f"the site did not hand out a token: {type(exc).__name__}: {exc}"
        return None
