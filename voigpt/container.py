"""The one place that knows which adapters are concrete: config -> adapters -> use case.

Override recipe (what tests and embedding services do)::

    container = build_container(base_url="http://127.0.0.1:8000")
    with container.transport.override(FakeChatTransport(replies=["hi"])):
        container.complete_chat()(messages)

``complete_chat`` is a ``Factory``, so an override of the transport, token source or token
cache applies to the very next call. The adapters are ``ThreadSafeSingleton``s: one shared
session (keep-alive) and one token cache per container, safe to use from many threads.
An override of the *session* or *endpoint* must come before the first call that builds the
transport, or be followed by ``container.reset_singletons()``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

from dependency_injector import containers, providers

from voigpt.adapters.environment import Environment
from voigpt.adapters.memory import (
    AsyncAttributeTokenCache,
    AsyncFakeChatTransport,
    AsyncFakeTokenSource,
    AsyncInMemoryTokenCache,
    AttributeTokenCache,
    BoundedResponseStore,
    FakeChatTransport,
    FakeTokenSource,
    InMemoryTokenCache,
    MemoryState,
    RememberedTokenCache,
)
from voigpt.adapters.monotonic import AsyncSystemClock, SystemClock
from voigpt.adapters.requests import (
    HttpEndpoint,
    RequestsChatTransport,
    RequestsTokenSource,
    build_session,
)
from voigpt.config import LOCAL, Settings
from voigpt.domain.complete_chat import AsyncCompleteChat, CompleteChat
from voigpt.domain.errors import InvalidConfig
from voigpt.domain.retry import RetryPolicy
from voigpt.domain.state_location import StateLocation
from voigpt.ports.observer import NO_OBSERVER
from voigpt.ports.shared_state import SharedState


def _from_aiohttp(name: str) -> Callable[..., Any]:
    """A builder for an aiohttp adapter, imported when first built: aiohttp is the optional
    ``async`` extra, which sync users never load."""

    def build(*args: Any, **kwargs: Any) -> Any:
        from voigpt.adapters import aiohttp

        return getattr(aiohttp, name)(*args, **kwargs)

    return build


def build_state(location: StateLocation | None) -> SharedState:
    """Where shared state lives (``--state``), its adapters imported only when chosen:
    SQLite's and Redis's are built on what a ``Client`` never needs."""
    if location is None or location.kind == "memory":
        return MemoryState()
    name = {"sqlite": "SqliteState", "redis": "RedisState"}[location.kind]
    adapter = importlib.import_module(f"voigpt.adapters.{location.kind}")
    state: SharedState = getattr(adapter, name)(location)
    return state


class Container(containers.DeclarativeContainer):
    config = providers.Configuration(strict=True)

    # requests' own variables (HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE...), read once:
    # container_for() reads them when the container is built.
    environment = providers.ThreadSafeSingleton(Environment.read, config.base_url)

    session = providers.ThreadSafeSingleton(
        build_session, ca_bundle=environment.provided.ca_bundle
    )

    endpoint = providers.ThreadSafeSingleton(
        HttpEndpoint,
        session=session,
        base_url=config.base_url,
        timeouts=config.timeouts,
        proxy=config.proxy,
        max_reply_bytes=config.max_reply_bytes,
        environment=environment,
    )

    transport = providers.Selector(
        config.backend,
        http=providers.ThreadSafeSingleton(RequestsChatTransport, endpoint=endpoint),
        fake=providers.ThreadSafeSingleton(FakeChatTransport),
    )

    token_source = providers.Selector(
        config.backend,
        http=providers.ThreadSafeSingleton(RequestsTokenSource, endpoint=endpoint),
        fake=providers.ThreadSafeSingleton(FakeTokenSource),
    )

    token_cache = providers.ThreadSafeSingleton(InMemoryTokenCache)

    # A cache kept on an object's ``_access_token`` attribute (the g4f provider's class).
    attribute_token_cache = providers.Factory(AttributeTokenCache)

    clock = providers.ThreadSafeSingleton(SystemClock)

    retry = providers.ThreadSafeSingleton(RetryPolicy, retries=config.retries)

    # Who watches completions (the server's metrics); override it with an observer.
    observer = providers.Object(NO_OBSERVER)

    complete_chat = providers.Factory(
        CompleteChat,
        transport=transport,
        token_source=token_source,
        token_cache=token_cache,
        clock=clock,
        access_token=config.access_token,
        retry=retry,
        deadline=config.deadline,
        observer=observer,
    )

    # The asyncio twins: one aiohttp session per container, opened in the running loop.
    async_endpoint = providers.ThreadSafeSingleton(
        _from_aiohttp("AiohttpEndpoint"),
        base_url=config.base_url,
        max_connections=config.max_connections,
        timeouts=config.timeouts,
        proxy=config.proxy,
        max_reply_bytes=config.max_reply_bytes,
        environment=environment,
    )

    async_transport = providers.Selector(
        config.backend,
        http=providers.ThreadSafeSingleton(
            _from_aiohttp("AiohttpChatTransport"), endpoint=async_endpoint
        ),
        fake=providers.ThreadSafeSingleton(AsyncFakeChatTransport),
    )

    async_token_source = providers.Selector(
        config.backend,
        http=providers.ThreadSafeSingleton(
            _from_aiohttp("AiohttpTokenSource"), endpoint=async_endpoint
        ),
        fake=providers.ThreadSafeSingleton(AsyncFakeTokenSource),
    )

    async_token_cache = providers.ThreadSafeSingleton(AsyncInMemoryTokenCache)

    async_attribute_token_cache = providers.Factory(AsyncAttributeTokenCache)

    async_clock = providers.ThreadSafeSingleton(AsyncSystemClock)

    # voigpt serve's stored responses (the Responses API): built by the app with its
    # settings, ``container.response_store(max_records=..., ttl=...)``.
    response_store = providers.Factory(BoundedResponseStore)

    # The state a server's processes share (``--state``): ``container.shared_state(location)``
    # hands out its token cache, pace, response store and reply cache.
    shared_state = providers.Factory(build_state)
    # A shared token cache read through a per-process copy (a second at most).
    remembered_token_cache = providers.Factory(RememberedTokenCache)

    async_complete_chat = providers.Factory(
        AsyncCompleteChat,
        transport=async_transport,
        token_source=async_token_source,
        token_cache=async_token_cache,
        clock=async_clock,
        access_token=config.access_token,
        retry=retry,
        deadline=config.deadline,
        observer=observer,
    )


def build_container(
    mapping: Mapping[str, Any] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Container:
    """A container configured from ``Settings.load(mapping, environ=..., **overrides)``."""
    return container_for(Settings.load(mapping, environ=environ, **overrides))


def container_for(settings: Settings) -> Container:
    """A container configured from already validated settings. requests' environment
    variables are read now, like the ``VOIGPT_*`` ones were by ``Settings.load``."""
    if settings.backend == LOCAL:
        raise InvalidConfig(
            "backend 'local' is the command line's (it starts the bundled emulator); in Python, "
            "start voigpt.emulator.Emulator() and pass base_url=emulator.url"
        )
    container = Container()
    container.config.from_dict(settings.to_config())
    container.environment()
    return container


def close_container(container: Container) -> None:
    """Close the shared session's pooled connections; the container can still be used after
    (a new session is built on the next call). Building a session does no I/O; requests'
    environment variables are read again now."""
    container.session().close()
    container.reset_singletons()
    container.environment()


async def aclose_container(container: Container) -> None:
    """``close_container`` for the asyncio side: close the aiohttp session, if one was made."""
    if container.config.backend() == "http":
        await container.async_endpoint().aclose()
    container.reset_singletons()
    container.environment()
