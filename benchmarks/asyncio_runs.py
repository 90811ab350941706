"""asyncio: bursts of concurrent completions at a service time, and CPU per completion.

Bursts. In a fresh event loop, ``tasks`` completions start at once (``asyncio.gather``) on
one fresh client: (e) one ``voigpt.AsyncClient``, or (f) ``VoiGpt.create_async`` after
``VoiGpt.close()`` and a forgotten class-level token. The wall time (``perf_counter``) runs
from just before the gather to the last reply, so it includes the token fetch the tasks
share. Every reply is checked, errors are counted, and the emulator's ``tokens_issued`` is
read before and after, so "one token fetch" is read off the run, not assumed. The figure is
the median over turns.

Per completion, sequential. The async clients take turns, ``batch`` completions each
(e g h, e g h, ...), in one event loop against the instant emulator; wall from
``perf_counter``, CPU from ``process_time`` (this process only; the emulator runs in
another). (g), the floor, is one keep-alive ``aiohttp.ClientSession`` doing the bare
protocol: ``GET /`` once for the token, then POSTs with the cookie and header pair, Origin
and Referer. (h) is the same over ``httpx.AsyncClient``, shown beside it if httpx is
installed.
"""

from __future__ import annotations

import asyncio
import importlib.util
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

import aiohttp
import attrs

from benchmarks.clients import EXPECTED, MESSAGES
from benchmarks.threads import emulator_state
from benchmarks.turns import PerCompletion
from voigpt import AsyncClient, VoiGpt


class AsyncBenchClient(Protocol):
    key: str
    label: str

    async def __call__(self) -> str: ...

    async def aclose(self) -> None: ...


AsyncFactory = Callable[[str], Awaitable[AsyncBenchClient]]


async def checked(client: AsyncBenchClient) -> None:
    """One completion by ``client``; ``RuntimeError`` if the reply is not the expected one."""
    reply = await client()
    if reply != EXPECTED:
        raise RuntimeError(f"{client.label} got {reply!r}, expected {EXPECTED!r}")


class VoigptAsync:
    key, label = "e", "(e) voigpt AsyncClient.complete"

    def __init__(self, url: str) -> None:
        self._client = AsyncClient(base_url=url, environ={})

    @classmethod
    async def open(cls, url: str) -> VoigptAsync:
        return cls(url)

    async def __call__(self) -> str:
        return (await self._client.complete(MESSAGES)).text

    async def aclose(self) -> None:
        await self._client.aclose()


class FacadeAsync:
    """g4f's way in: ``VoiGpt.create_async``, the class-level routes and token."""

    key, label = "f", "(f) VoiGpt.create_async"

    def __init__(self, url: str) -> None:
        VoiGpt.close()
        VoiGpt.url = url
        VoiGpt._access_token = None

    @classmethod
    async def open(cls, url: str) -> FacadeAsync:
        return cls(url)

    async def __call__(self) -> str:
        return await VoiGpt.create_async("gpt-3.5-turbo", MESSAGES)

    async def aclose(self) -> None:
        await VoiGpt.aclose()  # this event loop's sessions
        VoiGpt.close()


def _bare_headers(url: str, token: str) -> dict[str, str]:
    return {
        "Cookie": f"csrftoken={token}",
        "X-CSRFToken": token,
        "Origin": url,
        "Referer": url + "/",
    }


class AiohttpFloor:
    key, label = "g", "(g) floor: bare keep-alive aiohttp.ClientSession"

    def __init__(self, url: str, session: aiohttp.ClientSession, token: str) -> None:
        self._session = session
        self._url = url + "/generate_response/"
        self._headers = _bare_headers(url, token)

    @classmethod
    async def open(cls, url: str) -> AiohttpFloor:
        session = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
        try:
            async with session.get(url + "/") as response:
                response.raise_for_status()
                await response.read()
                token = response.cookies["csrftoken"].value
        except BaseException:
            await session.close()
            raise
        return cls(url, session, token)

    async def __call__(self) -> str:
        async with self._session.post(
            self._url, headers=self._headers, json={"messages": MESSAGES}
        ) as response:
            return str((await response.json())["response"])

    async def aclose(self) -> None:
        await self._session.close()


class HttpxFloor:
    key, label = "h", "(h) httpx.AsyncClient, bare protocol"

    def __init__(self, url: str, client: Any, token: str) -> None:
        self._client = client
        self._url = url + "/generate_response/"
        self._headers = _bare_headers(url, token)

    @staticmethod
    def installed() -> bool:
        return importlib.util.find_spec("httpx") is not None

    @classmethod
    async def open(cls, url: str) -> HttpxFloor:
        import httpx

        client = httpx.AsyncClient(trust_env=False)
        try:
            response = await client.get(url + "/")
            response.raise_for_status()
            token = response.cookies["csrftoken"]
            client.cookies.clear()  # sent explicitly, as by the others
        except BaseException:
            await client.aclose()
            raise
        return cls(url, client, token)

    async def __call__(self) -> str:
        response = await self._client.post(
            self._url, headers=self._headers, json={"messages": MESSAGES}
        )
        return str(response.json()["response"])

    async def aclose(self) -> None:
        await self._client.aclose()


# -- bursts ------------------------------------------------------------------------------------


@attrs.frozen
class BurstSpec:
    open: AsyncFactory
    key: str
    label: str
    tasks: int
    timed: bool  # held to the wall-time target (a multiple of the service time)
    one_fetch: bool  # one token fetch per turn is promised


BURSTS = (
    BurstSpec(VoigptAsync.open, VoigptAsync.key, VoigptAsync.label, 100, True, True),
    BurstSpec(FacadeAsync.open, FacadeAsync.key, FacadeAsync.label, 60, True, False),
    BurstSpec(VoigptAsync.open, VoigptAsync.key, VoigptAsync.label, 1000, False, True),
)


@attrs.frozen
class Burst:
    key: str
    label: str
    tasks: int
    latency: float  # the emulator's service time per completion, seconds
    wall: float  # median seconds for the whole burst
    errors: int  # summed over turns
    token_fetches: tuple[int, ...]  # per turn: tokens the emulator issued
    timed: bool
    one_fetch: bool
    first_error: str = ""


def measure_bursts(
    specs: Sequence[BurstSpec], url: str, *, latency: float, rounds: int
) -> list[Burst]:
    """Each spec ``rounds`` times, the specs taking turns; the emulator already set to
    ``latency``."""
    walls: list[list[float]] = [[] for _ in specs]
    errors = [0] * len(specs)
    fetches: list[list[int]] = [[] for _ in specs]
    first: list[str] = [""] * len(specs)
    for _ in range(rounds):
        for i, spec in enumerate(specs):
            before = emulator_state(url)["tokens_issued"]
            wall, failures = asyncio.run(_one_burst(spec, url))
            fetches[i].append(emulator_state(url)["tokens_issued"] - before)
            walls[i].append(wall)
            errors[i] += len(failures)
            if failures and not first[i]:
                first[i] = repr(failures[0])[:300]
    return [
        Burst(spec.key, spec.label, spec.tasks, latency, statistics.median(walls[i]), errors[i],
              tuple(fetches[i]), spec.timed, spec.one_fetch, first[i])
        for i, spec in enumerate(specs)
    ]


async def _one_burst(spec: BurstSpec, url: str) -> tuple[float, list[BaseException]]:
    client = await spec.open(url)
    try:
        started = time.perf_counter()
        results = await asyncio.gather(
            *(checked(client) for _ in range(spec.tasks)), return_exceptions=True
        )
        wall = time.perf_counter() - started
    finally:
        await client.aclose()
    return wall, [r for r in results if isinstance(r, BaseException)]


# -- per completion, sequential ------------------------------------------------------------------


TURN_CLIENTS: tuple[tuple[AsyncFactory, str, str], ...] = (
    (VoigptAsync.open, VoigptAsync.key, VoigptAsync.label),
    (AiohttpFloor.open, AiohttpFloor.key, AiohttpFloor.label),
    (HttpxFloor.open, HttpxFloor.key, HttpxFloor.label),
)


def async_take_turns(
    url: str, *, rounds: int, batch: int, warmup: int
) -> tuple[dict[str, PerCompletion], dict[str, str]]:
    """Medians per client over its turns, and the clients left out (key -> label) because
    their library is not installed."""
    missing = {} if HttpxFloor.installed() else {HttpxFloor.key: HttpxFloor.label}
    factories = [f for f, key, _ in TURN_CLIENTS if key not in missing]
    return asyncio.run(_turns(factories, url, rounds, batch, warmup)), missing


async def _turns(
    factories: Sequence[AsyncFactory], url: str, rounds: int, batch: int, warmup: int
) -> dict[str, PerCompletion]:
    clients: list[AsyncBenchClient] = []
    try:
        for factory in factories:
            clients.append(await factory(url))
        for client in clients:  # token fetched, connection open, code paths warm
            for _ in range(warmup):
                await checked(client)
        walls: dict[str, list[float]] = {c.key: [] for c in clients}
        cpus: dict[str, list[float]] = {c.key: [] for c in clients}
        for _ in range(rounds):
            for client in clients:
                wall_start, cpu_start = time.perf_counter(), time.process_time()
                for _ in range(batch):
                    await checked(client)
                walls[client.key].append((time.perf_counter() - wall_start) / batch)
                cpus[client.key].append((time.process_time() - cpu_start) / batch)
        return {
            c.key: PerCompletion(
                label=c.label,
                wall=statistics.median(walls[c.key]),
                cpu=statistics.median(cpus[c.key]),
                completions=rounds * batch,
            )
            for c in clients
        }
    finally:
        for client in clients:
            await client.aclose()
