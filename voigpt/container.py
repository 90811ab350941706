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
from collections.abc import Mapping
from functools import partial
from typing import Any

from dependency_injector import providers

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
from voigpt.config import Settings
from voigpt.container_base import ProviderContainer, by_backend, imported, use_case
from voigpt.container_lifecycle import aclose_container, close_container, configure, post_directly
from voigpt.domain.complete_chat import AsyncCompleteChat, CompleteChat
from voigpt.domain.retry import RetryPolicy
from voigpt.domain.state_location import StateLocation
from voigpt.ports.observer import NO_OBSERVER
from voigpt.ports.shared_state import SharedState

__all__ = ["Container", "aclose_container", "build_container", "build_state",
           "close_container", "container_for", "post_directly"]

# The adapters over HTTP, imported when first built (see ``imported``).
_from_requests = partial(imported, "voigpt.adapters.requests")
_from_aiohttp = partial(imported, "voigpt.adapters.aiohttp")


def build_state(location: StateLocation | None) -> SharedState:
    """Where shared state lives (``--state``), its adapters imported only when chosen:
    SQLite's and Redis's are built on what a ``Client`` never needs."""
    if location is None or location.kind == "memory":
        return MemoryState()
    name = {"sqlite": "SqliteState", "redis": "RedisState"}[location.kind]
    adapter = importlib.import_module(f"voigpt.adapters.{location.kind}")
    state: SharedState = getattr(adapter, name)(location)
    return state


class Container(ProviderContainer):
    """The providers that wire config -> adapters -> use case, one set per instance.

    Swap an adapter with ``container.transport.override(FakeChatTransport(...))`` (also a
    ``with`` block); it applies to the next call. Not a ``DeclarativeContainer`` (importing
    one is slow), but it has the methods of one an embedder is likely to use: ``providers``,
    ``override_providers`` and ``reset_singletons``.

    :ivar config: the settings, e.g. ``container.config.timeout()``.
    :ivar transport: sends a conversation with a token and reads the reply, for ``Client``.
    :ivar token_source: fetches a csrftoken from ``GET /`` when none is cached.
    :ivar token_cache: the fetched token, one per container, shared by its threads.
    :ivar clock: the time deadlines are kept by, and the sleeps between retries.
    :ivar observer: told how each call goes (the server's metrics); none by default.
    :ivar complete_chat: a new ``CompleteChat`` per call, built from the providers above.
    :ivar async_transport: ``transport`` for ``AsyncClient`` (over aiohttp).
    :ivar async_token_source: ``token_source`` for ``AsyncClient``.
    :ivar async_token_cache: ``token_cache`` for ``AsyncClient``, shared by its tasks.
    :ivar async_clock: ``clock`` for ``AsyncClient``.
    :ivar async_complete_chat: ``complete_chat`` for ``AsyncClient``: ``AsyncCompleteChat``.
    """

    def __init__(self) -> None:
        self.config = providers.Configuration(strict=True)

        # requests' own variables (HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE...), read once:
        # container_for() reads them when the container is built.
        self.environment = providers.ThreadSafeSingleton(
            imported("voigpt.adapters.environment", "Environment.read"),
            self.config.base_url,
        )

        self.session = providers.ThreadSafeSingleton(
            _from_requests("build_session"), ca_bundle=self.environment.provided.ca_bundle
        )

        self.endpoint = providers.ThreadSafeSingleton(
            _from_requests("HttpEndpoint"),
            session=self.session,
            base_url=self.config.base_url,
            timeouts=self.config.timeouts,
            proxy=self.config.proxy,
            max_reply_bytes=self.config.max_reply_bytes,
            environment=self.environment,
        )

        self.transport = by_backend(self.config.backend, _from_requests("RequestsChatTransport"),
                                    FakeChatTransport, endpoint=self.endpoint)

        self.token_source = by_backend(self.config.backend, _from_requests("RequestsTokenSource"),
                                       FakeTokenSource, endpoint=self.endpoint)

        self.token_cache = providers.ThreadSafeSingleton(InMemoryTokenCache)

        # A cache kept on an object's ``_access_token`` attribute (the g4f provider's class).
        self.attribute_token_cache = providers.Factory(AttributeTokenCache)

        self.clock = providers.ThreadSafeSingleton(SystemClock)

        self.retry = providers.ThreadSafeSingleton(RetryPolicy, retries=self.config.retries)

        # Who watches completions (the server's metrics); override it with an observer.
        self.observer = providers.Object(NO_OBSERVER)

        self.complete_chat = use_case(
            CompleteChat, self.config, retry=self.retry, observer=self.observer,
            transport=self.transport, token_source=self.token_source,
            token_cache=self.token_cache, clock=self.clock,
        )

        # The asyncio twins: one aiohttp session per container, opened in the running loop.
        self.async_endpoint = providers.ThreadSafeSingleton(
            _from_aiohttp("AiohttpEndpoint"),
            base_url=self.config.base_url,
            max_connections=self.config.max_connections,
            timeouts=self.config.timeouts,
            proxy=self.config.proxy,
            max_reply_bytes=self.config.max_reply_bytes,
            environment=self.environment,
        )

        self.async_transport = by_backend(
            self.config.backend, _from_aiohttp("AiohttpChatTransport"), AsyncFakeChatTransport,
            endpoint=self.async_endpoint,
        )

        self.async_token_source = by_backend(
            self.config.backend, _from_aiohttp("AiohttpTokenSource"), AsyncFakeTokenSource,
            endpoint=self.async_endpoint,
        )

        self.async_token_cache = providers.ThreadSafeSingleton(AsyncInMemoryTokenCache)

        self.async_attribute_token_cache = providers.Factory(AsyncAttributeTokenCache)

        self.async_clock = providers.ThreadSafeSingleton(AsyncSystemClock)

        # voigpt serve's stored responses (the Responses API): built by the app with its
        # settings, ``container.response_store(max_records=..., ttl=...)``.
        self.response_store = providers.Factory(BoundedResponseStore)

        # The state a server's processes share (``--state``): ``container.shared_state(location)``
        # hands out its token cache, pace, response store and reply cache.
        self.shared_state = providers.Factory(build_state)
        # A shared token cache read through a per-process copy (a second at most).
        self.remembered_token_cache = providers.Factory(RememberedTokenCache)

        self.async_complete_chat = use_case(
            AsyncCompleteChat, self.config, retry=self.retry, observer=self.observer,
            transport=self.async_transport, token_source=self.async_token_source,
            token_cache=self.async_token_cache, clock=self.async_clock,
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
    container = Container()
    configure(container, settings)
    return container
