"""``wired_with_fakes``: the production container and use cases, with fakes overriding the
transport, the token source and the clock (and their asyncio twins) for the duration of a
``with`` block."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from typing import Any

import attrs

from voigpt.adapters.memory import (
    AsyncFakeChatTransport,
    AsyncFakeClock,
    AsyncFakeTokenSource,
    FakeChatTransport,
    FakeClock,
    FakeTokenSource,
)
from voigpt.async_client import AsyncClient
from voigpt.client import Client
from voigpt.container import Container, build_container


@attrs.frozen
class Fakes:
    """What ``wired_with_fakes`` yields: the container and the fakes wired into it.

    :ivar container: the real ``Container``, its providers overridden by the fakes below.
    :ivar transport: the ``FakeChatTransport`` (its ``sent`` lists what ``Client`` sent).
    :ivar token_source: the ``FakeTokenSource`` (its ``token_fetches`` counts fetches).
    :ivar clock: the ``FakeClock`` (its ``sleeps`` records retry waits).
    :ivar async_transport: the ``AsyncFakeChatTransport`` an ``AsyncClient`` uses.
    :ivar async_token_source: the ``AsyncFakeTokenSource`` an ``AsyncClient`` uses.
    :ivar async_clock: the ``AsyncFakeClock`` an ``AsyncClient`` uses.
    """

    container: Container
    transport: FakeChatTransport
    token_source: FakeTokenSource
    clock: FakeClock
    async_transport: AsyncFakeChatTransport
    async_token_source: AsyncFakeTokenSource
    async_clock: AsyncFakeClock

    def client(self) -> Client:
        """A ``Client`` on this container (closing it keeps the overrides)."""
        return Client(container=self.container)

    def async_client(self) -> AsyncClient:
        """An ``AsyncClient`` on this container: it uses the ``async_*`` fakes."""
        return AsyncClient(container=self.container)


@contextmanager
def wired_with_fakes(
    mapping: Mapping[str, Any] | None = None,
    *,
    replies: Iterable[str | BaseException] = (),
    transport: FakeChatTransport | None = None,
    token_source: FakeTokenSource | None = None,
    clock: FakeClock | None = None,
    environ: Mapping[str, str] | None = None,
    **settings: Any,
) -> Iterator[Fakes]:
    """Settings as for ``Client`` (validated the same way), the ``VOIGPT_*`` environment
    ignored unless ``environ`` is given. ``replies`` scripts a new ``FakeChatTransport`` (and
    the same replies an ``AsyncFakeChatTransport``); pass ``transport=`` for one of your
    own. The fake clocks make retry waits instant (their ``sleeps`` record them).

    A context manager: the overrides hold inside the ``with`` block and are undone after
    it (the container's singletons reset), while the fakes keep what they recorded.

    :raises TypeError: both ``replies`` and ``transport`` were given.
    :raises InvalidConfig: a setting is wrong, as ``Client`` would raise it.
    """
    if transport is not None and replies:
        raise TypeError("pass either replies= or transport=, not both")
    container = build_container(mapping, environ=environ or {}, **settings)
    replies = list(replies)
    fakes = Fakes(
        container=container,
        transport=transport or FakeChatTransport(replies),
        token_source=token_source or FakeTokenSource(),
        clock=clock or FakeClock(),
        async_transport=AsyncFakeChatTransport(replies),
        async_token_source=AsyncFakeTokenSource(),
        async_clock=AsyncFakeClock(),
    )
    with ExitStack() as overrides:
        for name in ("transport", "token_source", "clock"):
            for provider in (name, f"async_{name}"):
                override = getattr(container, provider).override(getattr(fakes, provider))
                overrides.enter_context(override)
        overrides.callback(container.reset_singletons)
        yield fakes
