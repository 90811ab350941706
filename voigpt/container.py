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

import contextlib
import importlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from dependency_injector import providers
from dependency_injector.providers import Provider

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
from voigpt.config import LOCAL, Settings
from voigpt.domain.complete_chat import AsyncCompleteChat, CompleteChat
from voigpt.domain.errors import InvalidConfig
from voigpt.domain.retry import RetryPolicy
from voigpt.domain.state_location import StateLocation
from voigpt.ports.observer import NO_OBSERVER
from voigpt.ports.shared_state import SharedState


def _imported(module: str, name: str) -> Callable[..., Any]:
    """A builder for an HTTP adapter, its module imported when it is first built: the
    requests adapters (requests and urllib3, ~70 ms to import) only when a call goes over
    HTTP with threads, aiohttp's (the optional ``async`` extra) only with asyncio. The fake
    backend loads neither (over HTTP, the environment is read with ``requests.utils``, as
    requests reads it); sync users never load aiohttp."""

    def build(*args: Any, **kwargs: Any) -> Any:
        found: Any = importlib.import_module(module)
        for part in name.split("."):  # "Environment.read": a class's method
            found = getattr(found, part)
        return found(*args, **kwargs)

    return build


def _from_requests(name: str) -> Callable[..., Any]:
    return _imported("voigpt.adapters.requests", name)


def _from_aiohttp(name: str) -> Callable[..., Any]:
    return _imported("voigpt.adapters.aiohttp", name)


def build_state(location: StateLocation | None) -> SharedState:
    """Where shared state lives (``--state``), its adapters imported only when chosen:
    SQLite's and Redis's are built on what a ``Client`` never needs."""
    if location is None or location.kind == "memory":
        return MemoryState()
    name = {"sqlite": "SqliteState", "redis": "RedisState"}[location.kind]
    adapter = importlib.import_module(f"voigpt.adapters.{location.kind}")
    state: SharedState = getattr(adapter, name)(location)
    return state


class Container:
    """The providers that wire config -> adapters -> use case, one set per instance.

    Built from ``dependency_injector.providers`` alone, not a ``DeclarativeContainer``:
    the ``containers`` module imports ``dependency_injector.wiring`` (which we do not use),
    and that imports fastapi, starlette and werkzeug whenever they are installed, which cost
    every ``Client`` and every ``voigpt ask`` about a quarter of a second once the server
    extra is installed. Overriding works as before (``container.transport.override(...)``),
    and the container keeps the ``DeclarativeContainer`` methods an embedder is likely to
    use: ``providers``, ``override_providers`` and ``reset_singletons``.
    """

    def __init__(self) -> None:
        self.config = providers.Configuration(strict=True)

        # requests' own variables (HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE...), read once:
        # container_for() reads them when the container is built.
        self.environment = providers.ThreadSafeSingleton(
            _imported("voigpt.adapters.environment", "Environment.read"),
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

        self.transport = providers.Selector(
            self.config.backend,
            http=providers.ThreadSafeSingleton(_from_requests("RequestsChatTransport"),
                                               endpoint=self.endpoint),
            fake=providers.ThreadSafeSingleton(FakeChatTransport),
        )

        self.token_source = providers.Selector(
            self.config.backend,
            http=providers.ThreadSafeSingleton(_from_requests("RequestsTokenSource"),
                                               endpoint=self.endpoint),
            fake=providers.ThreadSafeSingleton(FakeTokenSource),
        )

        self.token_cache = providers.ThreadSafeSingleton(InMemoryTokenCache)

        # A cache kept on an object's ``_access_token`` attribute (the g4f provider's class).
        self.attribute_token_cache = providers.Factory(AttributeTokenCache)

        self.clock = providers.ThreadSafeSingleton(SystemClock)

        self.retry = providers.ThreadSafeSingleton(RetryPolicy, retries=self.config.retries)

        # Who watches completions (the server's metrics); override it with an observer.
        self.observer = providers.Object(NO_OBSERVER)

        self.complete_chat = providers.Factory(
            CompleteChat,
            transport=self.transport,
            token_source=self.token_source,
            token_cache=self.token_cache,
            clock=self.clock,
            access_token=self.config.access_token,
            retry=self.retry,
            deadline=self.config.deadline,
            observer=self.observer,
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

        self.async_transport = providers.Selector(
            self.config.backend,
            http=providers.ThreadSafeSingleton(
                _from_aiohttp("AiohttpChatTransport"), endpoint=self.async_endpoint
            ),
            fake=providers.ThreadSafeSingleton(AsyncFakeChatTransport),
        )

        self.async_token_source = providers.Selector(
            self.config.backend,
            http=providers.ThreadSafeSingleton(
                _from_aiohttp("AiohttpTokenSource"), endpoint=self.async_endpoint
            ),
            fake=providers.ThreadSafeSingleton(AsyncFakeTokenSource),
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

        self.async_complete_chat = providers.Factory(
            AsyncCompleteChat,
            transport=self.async_transport,
            token_source=self.async_token_source,
            token_cache=self.async_token_cache,
            clock=self.async_clock,
            access_token=self.config.access_token,
            retry=self.retry,
            deadline=self.config.deadline,
            observer=self.observer,
        )

    @property
    def providers(self) -> dict[str, Provider[Any]]:
        """Every provider by name, as a ``DeclarativeContainer``'s ``providers`` is."""
        return {name: p for name, p in vars(self).items() if isinstance(p, Provider)}

    @contextlib.contextmanager
    def override_providers(self, **overriding: Any) -> Iterator[None]:
        """Override providers by name at once, as a ``DeclarativeContainer`` does (a value
        that is not a provider is provided as is); undone when the ``with`` block ends."""
        unknown = sorted(set(overriding) - set(self.providers))
        if unknown:
            raise AttributeError(f"the container has no provider named {', '.join(unknown)}")
        with contextlib.ExitStack() as stack:
            for name, value in overriding.items():
                stack.enter_context(getattr(self, name).override(value))
            yield

    def reset_singletons(self) -> None:
        """Forget every singleton built so far (the next call builds it again)."""
        for provider in providers.traverse(*vars(self).values(),
                                           types=[providers.BaseSingleton]):
            if isinstance(provider, providers.BaseSingleton):  # what types= chose
                provider.reset()


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
    _read_environment(container)
    return container


def _read_environment(container: Container) -> None:
    """Read requests' variables now (a bad one is ``InvalidConfig`` before any I/O); only the
    HTTP backend uses them: the fake one never opens a connection."""
    if container.config.backend() == "http":
        container.environment()


def close_container(container: Container) -> None:
    """Close the shared session's pooled connections; the container can still be used after
    (a new session is built on the next call). Building a session does no I/O; requests'
    environment variables are read again now."""
    if container.config.backend() == "http":
        container.session().close()
    container.reset_singletons()
    _read_environment(container)


async def aclose_container(container: Container) -> None:
    """``close_container`` for the asyncio side: close the aiohttp session, if one was made."""
    if container.config.backend() == "http":
        await container.async_endpoint().aclose()
    container.reset_singletons()
    _read_environment(container)
