"""The completion use case: ``CompleteChat`` for threads, ``AsyncCompleteChat`` for asyncio.

Both are drivers of the same rules (``steps.completion_steps``): they check the input
before any I/O (``call.prepare``, shared), then do what the rules ask with their ports.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs

from voigpt.domain.call import PLAIN, Asked, Messages, completion, new_call_id, prepare
from voigpt.domain.limits import DEFAULT_DEADLINE
from voigpt.domain.retry import RetryPolicy
from voigpt.domain.steps import Effect, Forget, GetToken, Send, Wait, adrive, drive
from voigpt.domain.values import AccessToken, Completion
from voigpt.ports.clock import AsyncClock, Clock
from voigpt.ports.observer import NO_OBSERVER, CompletionObserver
from voigpt.ports.token_cache import AsyncTokenCache, TokenCache
from voigpt.ports.token_source import AsyncTokenSource, TokenSource
from voigpt.ports.transport import AsyncChatTransport, ChatTransport

if TYPE_CHECKING:  # the tools' rules are imported when a call asks for tools or a format
    from voigpt.domain.tools.flow import Repair

# What a call takes and gives lives in ``call`` (shared by both drivers); these names are
# imported from here too.


@attrs.frozen
class CompleteChat:
    """Turn a conversation into a ``Completion``, with sync ports (safe across threads).
    The container builds one per call (``container.complete_chat()``); call it as
    ``use_case(messages, model=..., access_token=...)``, as ``Client.complete`` does.

    :ivar transport: sends a conversation with a token, and reads the reply.
    :ivar token_source: fetches a new csrftoken (``GET /``) when none is cached.
    :ivar token_cache: keeps the fetched token for every call, and forgets a refused one.
    :ivar clock: the time the deadline is kept by, and the sleeps between retries.
    :ivar access_token: a configured token, used as given and never replaced; ``None``:
        fetched and cached.
    :ivar retry: how many times, and after what pauses, transient failures are retried.
    :ivar deadline: the most seconds one call may take, retries and waits included.
    :ivar jitter: a number in [0, 1) per pause, to spread the retries of many clients.
    :ivar observer: told how each call goes (the server's metrics); by default, no one.
    :ivar new_id: makes the ids of tool calls (``call_`` and random hex digits).
    """

    transport: ChatTransport
    token_source: TokenSource
    token_cache: TokenCache
    clock: Clock
    access_token: AccessToken | None = None
    retry: RetryPolicy = attrs.Factory(RetryPolicy)
    deadline: float = DEFAULT_DEADLINE
    jitter: Callable[[], float] = random.random
    observer: CompletionObserver = NO_OBSERVER
    new_id: Callable[[], str] = new_call_id

    def __call__(
        self,
        messages: Messages,
        *,
        model: str | None = None,
        access_token: str | AccessToken | None = None,
        asked: Asked = PLAIN,
    ) -> Completion:
        """Complete ``messages``, checked before any I/O.

        :param messages: the conversation: message dicts or a ``Conversation``.
        :param model: the model's name; ``None`` or ``""``: ``gpt-3.5-turbo``.
        :param access_token: a token for this call only, used as given.
        :param asked: the tools or JSON format asked for; ``PLAIN``: text.
        :raises VoiGptError: what ``Client.complete`` lists.
        """
        steps, resolved, deadline = prepare(self, messages, model, access_token, asked)

        clock, observer = self.clock, self.observer

        def fetch() -> AccessToken:
            with Observed(clock, observer.token_fetched):
                return self.token_source.fetch(deadline=deadline)

        def do(effect: Effect | Repair) -> object:
            if isinstance(effect, Send):
                with Observed(clock, observer.sent):
                    return self.transport.send(effect.conversation, effect.token, deadline=deadline)
            if isinstance(effect, GetToken):
                return self.token_cache.acquire(fetch)
            if isinstance(effect, Forget):
                self.token_cache.invalidate(effect.token)
            elif isinstance(effect, Wait):
                _retrying(observer, effect)
                clock.sleep(effect.seconds)
            else:  # a Repair, from the tools' rules
                observer.repairing(effect.detail)
            return None

        return completion(drive(steps, do), resolved)


@attrs.frozen
class AsyncCompleteChat:
    """``CompleteChat`` for asyncio: the same rules, with awaited ports."""

    # Twin of CompleteChat's fields, kept apart because the ports' types (awaited ones here)
    # are what mypy checks the container's wiring against, and one generic base would need a
    # type parameter per port.
    transport: AsyncChatTransport
    token_source: AsyncTokenSource
    token_cache: AsyncTokenCache
    clock: AsyncClock
    access_token: AccessToken | None = None
    retry: RetryPolicy = attrs.Factory(RetryPolicy)
    deadline: float = DEFAULT_DEADLINE
    jitter: Callable[[], float] = random.random
    observer: CompletionObserver = NO_OBSERVER
    new_id: Callable[[], str] = new_call_id

    async def __call__(
        self,
        messages: Messages,
        *,
        model: str | None = None,
        access_token: str | AccessToken | None = None,
        asked: Asked = PLAIN,
    ) -> Completion:
        # Twin of CompleteChat.__call__, kept apart because every port here is awaited: one
        # shared driver would make the sync path run an event loop or the async path block it.
        steps, resolved, deadline = prepare(self, messages, model, access_token, asked)

        clock, observer = self.clock, self.observer

        async def fetch() -> AccessToken:
            with Observed(clock, observer.token_fetched):
                return await self.token_source.fetch(deadline=deadline)

        async def do(effect: Effect | Repair) -> object:
            if isinstance(effect, Send):
                # Observed's timing, written out: this is every completion's path
                started = clock.now()
                try:
                    text = await self.transport.send(
                        effect.conversation, effect.token, deadline=deadline
                    )
                except BaseException as error:
                    observer.sent(clock.now() - started, error)
                    raise
                observer.sent(clock.now() - started, None)
                return text
            if isinstance(effect, GetToken):
                return await self.token_cache.acquire(fetch)
            if isinstance(effect, Forget):
                await self.token_cache.invalidate(effect.token)
            elif isinstance(effect, Wait):
                _retrying(observer, effect)
                await clock.sleep(effect.seconds)
            else:  # a Repair, from the tools' rules
                observer.repairing(effect.detail)
            return None

        return completion(await adrive(steps, do), resolved)


class Observed:
    """Times the block on ``clock`` and reports it with ``report(seconds, error)``: the
    error that ended it (a cancellation too: it is not a success), or None. A plain
    context manager, so sync and async drivers time their ports the same way."""

    __slots__ = ("_clock", "_report", "_started")

    def __init__(
        self, clock: Clock | AsyncClock, report: Callable[[float, BaseException | None], None]
    ) -> None:
        self._clock, self._report = clock, report

    def __enter__(self) -> None:
        self._started = self._clock.now()

    def __exit__(self, kind: object, error: BaseException | None, traceback: object) -> None:
        self._report(self._clock.now() - self._started, error)


def _retrying(observer: CompletionObserver, wait: Wait) -> None:
    if wait.error is not None:
        observer.retrying(wait.error, wait.seconds)
