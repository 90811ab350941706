"""Where ``VoiGpt``'s calls go: one container per distinct settings (site, proxy, timeout).

The sync side keeps one container (one keep-alive requests session) per settings, a few of
them, for every thread. The asyncio side keeps them per event loop as well, because an
aiohttp session belongs to the loop it was opened in and g4f runs loops of its own (its sync
``Client`` runs an async provider in a fresh loop per call). A loop's sessions are closed
when the loop shuts down (``asyncio.run`` and g4f's runner both finalize async generators
then: a parked one does the closing), or by ``await VoiGpt.aclose()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from collections import OrderedDict
from collections.abc import AsyncGenerator, AsyncIterator

import attrs

from voigpt.config import Settings
from voigpt.container import Container, aclose_container, close_container, container_for

MAX_ROUTES = 8


class SyncRoutes:
    """One container per distinct settings, the ``limit`` most recently used kept."""

    def __init__(self, limit: int = MAX_ROUTES) -> None:
        self._limit = limit
        self._routes: OrderedDict[Settings, Container] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, settings: Settings) -> Container:
        with self._lock:
            container = self._routes.get(settings)
            if container is not None:
                self._routes.move_to_end(settings)
                return container
            container = self._routes[settings] = container_for(settings)
            if len(self._routes) > self._limit:
                _, oldest = self._routes.popitem(last=False)
                close_container(oldest)
            return container

    def close(self) -> None:
        with self._lock:
            for container in self._routes.values():
                close_container(container)
            self._routes.clear()


@attrs.define(eq=False)
class _Route:
    container: Container
    calls: int = 0  # in flight: a route evicted meanwhile is closed when the last one ends
    evicted: bool = False


@attrs.define(eq=False)
class _LoopState:
    routes: OrderedDict[Settings, _Route] = attrs.Factory(OrderedDict)
    keeper: AsyncGenerator[None, None] | None = None


class LoopRoutes:
    """One container per (running event loop, settings), the ``limit`` most recently used
    kept per loop; nothing here is shared between loops."""

    def __init__(self, limit: int = MAX_ROUTES) -> None:
        self._limit = limit
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()  # loops in several threads share the mapping

    @contextlib.asynccontextmanager
    async def use(self, settings: Settings) -> AsyncIterator[Container]:
        """The running loop's container for ``settings``, for the length of one call."""
        state = await self._state()
        route = state.routes.get(settings)
        if route is None:
            route = state.routes[settings] = _Route(container_for(settings))
            if len(state.routes) > self._limit:
                _, oldest = state.routes.popitem(last=False)
                oldest.evicted = True
                if oldest.calls == 0:
                    await aclose_container(oldest.container)
        else:
            state.routes.move_to_end(settings)
        route.calls += 1
        try:
            yield route.container
        finally:
            route.calls -= 1
            if route.evicted and route.calls == 0:
                await aclose_container(route.container)

    async def aclose(self) -> None:
        """Close the running loop's sessions (later calls open new ones)."""
        with self._lock:
            state = self._loops.pop(asyncio.get_running_loop(), None)
        if state is not None:
            await _close(state)
            if state.keeper is not None:
                await state.keeper.aclose()

    def open_loops(self) -> int:
        """How many loops hold sessions (for tests)."""
        with self._lock:
            return sum(1 for loop in self._loops if not loop.is_closed())

    async def _state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        with self._lock:
            state = self._loops.get(loop)
            if state is not None:
                return state
            state = self._loops[loop] = _LoopState()
            # Loops closed without finalizing their async generators left sessions open.
            stale = [s for other, s in self._loops.items() if other.is_closed()]
            for other in [other for other in self._loops if other.is_closed()]:
                del self._loops[other]
        # Parked until the loop finalizes its async generators, which it does on shutdown.
        state.keeper = self._keeper(state)
        await state.keeper.__anext__()
        for old in stale:
            await _close(old)  # their sessions are marked closed: their loop cannot run
        return state

    async def _keeper(self, state: _LoopState) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            with self._lock:
                loop = asyncio.get_running_loop()
                if self._loops.get(loop) is state:
                    del self._loops[loop]
            await _close(state)


async def _close(state: _LoopState) -> None:
    routes = list(state.routes.values())
    state.routes.clear()
    for route in routes:
        route.evicted = True  # a call still in flight closes it again when it ends
        with contextlib.suppress(Exception):  # closing must not fail a shutdown
            await aclose_container(route.container)
