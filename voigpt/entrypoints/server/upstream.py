"""Everything between a completion endpoint and the use case: the server's own concurrency
slots, the site's pace shared by the fleet (``--site-rate``, ``--site-concurrency``, the
pause after a 429), and the reply cache (``--cache-ttl``).

With ``--state memory`` and neither cap, there is no pace to ask (the use case already
waits out a 429's ``Retry-After``), and without ``--cache-ttl`` no cache: the hot path is
the slot and the call, as before. A cache that fails never fails a request: the request
goes upstream as if it had missed.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from typing import Any

from voigpt.async_client import AsyncClient
from voigpt.domain.call import PLAIN, Asked, new_call_id
from voigpt.domain.complete_chat import AsyncCompleteChat
from voigpt.domain.errors import RateLimited
from voigpt.domain.tools import OutputSpec, ToolCall
from voigpt.domain.values import Completion, Conversation
from voigpt.entrypoints.server.metrics import ServerMetrics
from voigpt.entrypoints.server.slots import Slots
from voigpt.ports.observer import CompletionObserver
from voigpt.ports.shared_state import ReplyCache, SitePace

logger = logging.getLogger("voigpt.server")
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode


class Upstream:
    """The use case is built once, from the client's container as it is when the app is
    created (after the app's own overrides: its observer and token cache): the server
    drives the use case itself rather than through ``AsyncClient.complete``, whose
    per-call build (so that an override applies to the next call) cost every request
    about 3% of its CPU. Override the container before ``create_app``."""

    def __init__(self, client: AsyncClient, slots: Slots, metrics: ServerMetrics, *,
                 pace: SitePace | None = None, cache: ReplyCache | None = None,
                 cache_ttl: float | None = None) -> None:
        self.slots, self.metrics = slots, metrics
        self.use_case: AsyncCompleteChat = client.container.async_complete_chat()
        self.pace, self.cache, self.cache_ttl = pace, cache, cache_ttl
        self.watch: PaceWatch | None = None  # set when the pace watches the site's 429s

    async def complete(self, conversation: Conversation, model: str,
                       spec: OutputSpec | None) -> Completion:
        key = None
        if self.cache is not None:
            key = cache_key(model, conversation, spec)
            cached = await self._cached(key, model)
            self.metrics.cache_lookup(cached is not None)
            if cached is not None:
                return cached
        async with self.slots:
            if self.pace is None:
                completion = await self._call(conversation, model, spec)
            else:
                try:
                    if self.pace.started():  # uncapped and unpaused: nothing to hold
                        completion = await self._call(conversation, model, spec)
                    else:
                        async with self.pace.slot():
                            completion = await self._call(conversation, model, spec)
                except RateLimited:
                    if self.watch is not None:  # the fleet is paused before the 429 is told
                        await self.watch.settled()
                    raise
        if key is not None:
            await self._keep(key, completion)
        return completion

    async def _call(self, conversation: Conversation, model: str,
                    spec: OutputSpec | None) -> Completion:
        asked = PLAIN if spec is None else Asked(spec.tools, spec.choice, spec.format,
                                                 spec.parallel)
        return await self.use_case(conversation, model=model, asked=asked)

    async def _cached(self, key: str, model: str) -> Completion | None:
        assert self.cache is not None
        try:
            raw = await self.cache.get(key)
            return None if raw is None else from_cached(raw, model)
        except Exception as exc:  # a cache never fails a request
            logger.warning("the reply cache failed (%s): answering from upstream",
                           type(exc).__name__)
            return None

    async def _keep(self, key: str, completion: Completion) -> None:
        assert self.cache is not None and self.cache_ttl is not None
        try:
            await self.cache.put(key, to_cached(completion), self.cache_ttl)
        except Exception as exc:
            logger.warning("the reply cache failed (%s): the answer was not kept",
                           type(exc).__name__)


def cache_key(model: str, conversation: Conversation, spec: OutputSpec | None) -> str:
    """A hash of everything that shapes the answer: the model, the messages, the tools, the
    tool choice and the format."""
    asked: Any = None
    if spec is not None:
        asked = {
            "tools": [[t.name, t.description, t.parameters] for t in spec.tools],
            "choice": [spec.choice.mode, spec.choice.name], "parallel": spec.parallel,
            "format": None if spec.format is None else [
                spec.format.schema, spec.format.name, spec.format.strict],
        }
    document = _encode([model, conversation.to_dicts(), asked])
    return hashlib.sha256(document.encode()).hexdigest()


def to_cached(completion: Completion) -> bytes:
    calls = [[call.name, call.arguments] for call in completion.tool_calls]
    return _encode({"text": completion.text, "calls": calls,
                    "data": completion.data}).encode()


def from_cached(raw: bytes, model: str) -> Completion:
    """The cached answer, its tool calls with fresh ids (an id names one answer's call)."""
    kept = json.loads(raw)
    calls = tuple(ToolCall(new_call_id(), name, arguments) for name, arguments in kept["calls"])
    return Completion(text=kept["text"], model=model, tool_calls=calls, data=kept["data"])


class PaceWatch:
    """The use case's observer for the server: everything to the metrics, and each 429 the
    site sends to the fleet's pace (which pauses every copy's new starts)."""

    def __init__(self, pace: SitePace, inner: CompletionObserver) -> None:
        self._pace, self._inner = pace, inner
        self._tasks: set[asyncio.Task[None]] = set()

    def token_fetched(self, seconds: float, error: BaseException | None) -> None:
        self._inner.token_fetched(seconds, error)

    def sent(self, seconds: float, error: BaseException | None) -> None:
        if isinstance(error, RateLimited):
            task = asyncio.get_running_loop().create_task(
                self._pace.rate_limited(error.retry_after))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        self._inner.sent(seconds, error)

    async def settled(self) -> None:
        """Wait until every 429 seen so far is in the shared pace."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def retrying(self, error: Exception, pause: float) -> None:
        self._inner.retrying(error, pause)

    def repairing(self, problem: str) -> None:
        self._inner.repairing(problem)
