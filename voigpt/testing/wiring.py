"""``wired_with_fakes``: the production container and use case, with the fakes overriding the
transport, the token source and the clock for the duration of a ``with`` block."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from typing import Any

import attrs

from voigpt.adapters.memory import FakeChatTransport, FakeClock, FakeTokenSource
from voigpt.client import Client
from voigpt.container import Container, build_container


@attrs.frozen
class Fakes:
    """What ``wired_with_fakes`` yields: the container and the fakes wired into it."""

    container: Container
    transport: FakeChatTransport
    token_source: FakeTokenSource
    clock: FakeClock

    def client(self) -> Client:
        """A ``Client`` on this container (closing it keeps the overrides)."""
        return Client(container=self.container)


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
    ignored unless ``environ`` is given. ``replies`` scripts a new ``FakeChatTransport``;
    pass ``transport=`` for one of your own. The ``FakeClock`` makes retry waits instant
    (its ``sleeps`` records them)."""
    if transport is not None and replies:
        raise TypeError("pass either replies= or transport=, not both")
    container = build_container(mapping, environ=environ or {}, **settings)
    fakes = Fakes(
        container=container,
        transport=transport or FakeChatTransport(replies),
        token_source=token_source or FakeTokenSource(),
        clock=clock or FakeClock(),
    )
    with ExitStack() as overrides:
        overrides.enter_context(container.transport.override(fakes.transport))
        overrides.enter_context(container.token_source.override(fakes.token_source))
        overrides.enter_context(container.clock.override(fakes.clock))
        overrides.callback(container.reset_singletons)
        yield fakes
