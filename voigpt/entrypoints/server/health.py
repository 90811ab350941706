"""``/health`` (the process answers; touches nothing upstream) and ``/health/ready`` (the
site handed out a token within the last ``FRESH`` seconds; if none did, one is asked for
now, within ``PROBE_TIMEOUT`` seconds).

One probe is in flight at a time, and every readiness check that comes while it runs
shares its result: with a hung site, any number of checks are answered together, within
one probe's bound. A check whose client goes away leaves the probe to the others.

``/health/ready`` needs no key, so a failed probe is told by its kind only: the error's
class and code (as a completion's error would carry) and a fixed message, never text the
site sent. The full message goes to the log, for the operator."""

from __future__ import annotations

import asyncio
import logging

from starlette.responses import JSONResponse

from voigpt.async_client import AsyncClient
from voigpt.domain.complete_chat import Observed
from voigpt.domain.errors import VoiGptError
from voigpt.domain.retry import Deadline
from voigpt.entrypoints.server.errors import from_voigpt
from voigpt.entrypoints.server.metrics import ServerMetrics

logger = logging.getLogger("voigpt.server")
FRESH = 60.0
PROBE_TIMEOUT = 5.0


class Readiness:
    def __init__(self, client: AsyncClient, metrics: ServerMetrics) -> None:
        self.client, self.metrics = client, metrics
        self._probe: asyncio.Future[dict[str, str] | None] | None = None

    async def live(self) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def ready(self) -> JSONResponse:
        if not self._fresh():
            if self._probe is None:  # the first to find no fresh token starts the probe
                self._probe = asyncio.ensure_future(self._ask_for_a_token())
                self._probe.add_done_callback(self._probed)
            # Shielded: a check that goes away does not cancel the probe the others await.
            problem = await asyncio.shield(self._probe)
            if problem is not None:
                return JSONResponse({"status": "unready", **problem}, 503)
        return JSONResponse({"status": "ready"})

    def _probed(self, probe: asyncio.Future[dict[str, str] | None]) -> None:
        self._probe = None  # the next check that finds no fresh token probes again

    def _fresh(self) -> bool:
        age = self.metrics.token_age()
        return age is not None and age < FRESH

    async def _ask_for_a_token(self) -> dict[str, str] | None:
        """None when the site handed out a token; else what every waiting check answers."""
        container = self.client.container
        clock = container.async_clock()
        try:
            with Observed(clock, self.metrics.token_fetched):
                await container.async_token_source().fetch(
                    deadline=Deadline.after(clock, PROBE_TIMEOUT)
                )
        except VoiGptError as exc:
            logger.warning("readiness: the site did not hand out a token: %s", exc)
            kind = type(exc).__name__
            return {"reason": f"the site did not hand out a token ({kind})", "error": kind,
                    "code": str(from_voigpt(exc).code)}
        return None
