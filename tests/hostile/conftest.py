"""Fixtures of the hostile-server suite.

``make_client`` is parametrized over every transport the package has. Each entry of
``TRANSPORTS`` builds an object with ``complete``/``ask``/``close`` from settings; an async
transport is added as one more entry, wrapped in ``SyncOverAsync`` so that the same tests
drive it::

    "aiohttp": lambda **settings: SyncOverAsync(
        voigpt.AsyncClient(environ={}, **{"retries": 0, **settings})
    ),
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import pytest

import voigpt
from tests.hostile.servers import Handler, HostileServer, TrickleSocks5
from voigpt.container_lifecycle import post_directly


class ClientLike(Protocol):
    def complete(
        self, messages: Any, *, model: str | None = None, access_token: Any = None
    ) -> voigpt.Completion: ...

    def ask(self, prompt: str, *, system: str | None = None, model: str | None = None) -> str: ...

    def close(self) -> None: ...


MakeClient = Callable[..., ClientLike]


class SyncOverAsync:
    """Drives an async client (``await complete/ask``, ``await aclose()`` or ``close()``) on
    one private event loop, running in a thread of its own, so one client object (and its
    session) lives across calls, as a shared sync client does; calls from several threads
    at once run as concurrent tasks of that one loop."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    def _run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def complete(self, messages: Any, **kwargs: Any) -> voigpt.Completion:
        result: voigpt.Completion = self._run(self._client.complete(messages, **kwargs))
        return result

    def ask(self, prompt: str, **kwargs: Any) -> str:
        return str(self._run(self._client.ask(prompt, **kwargs)))

    def close(self) -> None:
        try:
            closing = getattr(self._client, "aclose", None) or self._client.close
            outcome = closing()
            if asyncio.iscoroutine(outcome):
                self._run(outcome)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
            self._loop.close()


def _requests(**settings: Any) -> ClientLike:
    return voigpt.Client(environ={}, **{"retries": 0, **settings})


def _aiohttp(**settings: Any) -> ClientLike:
    return SyncOverAsync(voigpt.AsyncClient(environ={}, **{"retries": 0, **settings}))


def _httptools(**settings: Any) -> ClientLike:
    """AsyncClient as ``voigpt serve`` drives it: its POSTs straight over asyncio and
    httptools when no proxy is in the way (``AiohttpEndpoint.post_directly``)."""
    client = voigpt.AsyncClient(environ={}, **{"retries": 0, **settings})
    post_directly(client.container)
    return SyncOverAsync(client)


# One entry per transport; ids are the keys.
TRANSPORTS: dict[str, MakeClient] = {
    "requests": _requests,
    "aiohttp": _aiohttp,
    "httptools": _httptools,
}

_REQUESTS_VARIABLES = (
    "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy",
    "all_proxy", "no_proxy", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
)


@contextlib.contextmanager
def requests_environment_cleared() -> Iterator[None]:
    """requests' own variables come from os.environ: none of the machine's apply here."""
    with pytest.MonkeyPatch.context() as patch:
        for name in _REQUESTS_VARIABLES:
            patch.delenv(name, raising=False)
        yield


@pytest.fixture(autouse=True)
def _clean_environment() -> Iterator[None]:
    with requests_environment_cleared():
        yield


@contextlib.contextmanager
def clients_of(transport: str) -> Iterator[MakeClient]:
    """``make(**settings)``: clients of ``transport``, ``retries=0`` unless given, no
    ``VOIGPT_*`` variables; all closed on exit."""
    build = TRANSPORTS[transport]
    made: list[ClientLike] = []

    def make(**settings: Any) -> ClientLike:
        client = build(**settings)
        made.append(client)
        return client

    try:
        yield make
    finally:
        for client in made:
            with contextlib.suppress(Exception):
                client.close()


@pytest.fixture(params=sorted(TRANSPORTS), ids=str)
def make_client(request: pytest.FixtureRequest) -> Iterator[MakeClient]:
    """``make_client(**settings)``: a client of this transport (see ``clients_of``)."""
    with clients_of(request.param) as make:
        yield make


@pytest.fixture
def serve() -> Iterator[Callable[..., HostileServer]]:
    """``serve(handler, budget=...)``: a started ``HostileServer``, stopped after the test."""
    started: list[HostileServer] = []

    def start(handler: Handler | None = None, **kwargs: Any) -> HostileServer:
        server = HostileServer(handler, **kwargs).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
    errors = [error for server in started for error in server.errors]
    assert not errors, f"a server script failed (a bug in the test): {errors!r}"


@pytest.fixture
def socks() -> Iterator[Callable[..., TrickleSocks5]]:
    """``socks(delay=..., username=..., password=...)``: a started ``TrickleSocks5``."""
    started: list[TrickleSocks5] = []

    def start(**kwargs: Any) -> TrickleSocks5:
        server = TrickleSocks5(**kwargs).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
