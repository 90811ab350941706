"""The completion use case: ``CompleteChat`` for threads, ``AsyncCompleteChat`` for asyncio.

Both are drivers of the same rules (``steps.completion_steps``): they check the input
before any I/O, then do what the rules ask with their ports.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Generator, Mapping, Sequence
from typing import TYPE_CHECKING

import attrs

from voigpt.domain.limits import DEFAULT_DEADLINE
from voigpt.domain.retry import Deadline, RetryPolicy
from voigpt.domain.steps import (
    Effect,
    Forget,
    GetToken,
    Send,
    Steps,
    Wait,
    adrive,
    completion_steps,
    drive,
)
from voigpt.domain.values import AccessToken, Completion, Conversation, resolve_model
from voigpt.ports.clock import AsyncClock, Clock
from voigpt.ports.observer import NO_OBSERVER, CompletionObserver
from voigpt.ports.token_cache import AsyncTokenCache, TokenCache
from voigpt.ports.token_source import AsyncTokenSource, TokenSource
from voigpt.ports.transport import AsyncChatTransport, ChatTransport

if TYPE_CHECKING:  # the tools' rules are imported when a call asks for tools or a format
    from voigpt.domain.tools.flow import Repair
    from voigpt.domain.tools.replies import Reading

Messages = Conversation | Sequence[Mapping[str, object]]
Run = Generator["Effect | Repair", object, "str | Reading"]


def new_call_id() -> str:
    """``call_`` and 24 random hex digits, as OpenAI's call ids look."""
    return f"call_{os.urandom(12).hex()}"  # what secrets.token_hex does, without its import


@attrs.frozen
class Asked:
    """What a caller asked of the answer besides text, in OpenAI's shapes or as the
    domain's values (``voigpt.domain.tools``); all None: plain text."""

    tools: object = None
    tool_choice: object = None
    response_format: object = None
    parallel_tool_calls: object = None


PLAIN = Asked()


def _prepare(
    use_case: CompleteChat | AsyncCompleteChat,
    messages: Messages,
    model: str | None,
    access_token: str | AccessToken | None,
    asked: Asked,
) -> tuple[Run, str, Deadline]:
    """The rules for one call, once its input is checked (before any I/O). A configured
    token (``use_case.access_token``, e.g. ``VOIGPT_ACCESS_TOKEN``) is used as given and
    never replaced, like a per-call ``access_token=``; ``use_case.deadline`` is the most
    seconds one call may take, retries and waits included."""
    conversation = (
        messages if isinstance(messages, Conversation) else Conversation.from_dicts(messages)
    )
    resolved = resolve_model(model)
    explicit = use_case.access_token
    if isinstance(access_token, AccessToken):
        explicit = access_token
    elif access_token is not None and access_token != "":
        explicit = AccessToken.parse(access_token)
    spec = None
    if asked is not PLAIN:
        from voigpt.domain.tools.openai import output_spec

        spec = output_spec(asked.tools, asked.tool_choice, asked.response_format,
                           asked.parallel_tool_calls)
    deadline = Deadline.after(use_case.clock, use_case.deadline)

    def send(conversation: Conversation) -> Steps:
        return completion_steps(conversation, explicit, use_case.retry, deadline,
                                use_case.jitter)

    if spec is None:  # the plain path: nothing more to do
        return send(conversation), resolved, deadline
    from voigpt.domain.tools.flow import output_steps

    return output_steps(conversation, spec, send, use_case.new_id), resolved, deadline


def _completion(result: str | Reading, model: str) -> Completion:
    if isinstance(result, str):
        return Completion(text=result, model=model)
    return Completion(text=result.text, model=model, tool_calls=result.calls, data=result.data)


@attrs.frozen
class CompleteChat:
    """Turn a conversation into a ``Completion``, with sync ports (safe across threads)."""

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
        steps, resolved, deadline = _prepare(self, messages, model, access_token, asked)

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

        return _completion(drive(steps, do), resolved)


@attrs.frozen
class AsyncCompleteChat:
    """``CompleteChat`` for asyncio: the same rules, with awaited ports."""

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
        steps, resolved, deadline = _prepare(self, messages, model, access_token, asked)

        clock, observer = self.clock, self.observer

        async def fetch() -> AccessToken:
            with Observed(clock, observer.token_fetched):
                return await self.token_source.fetch(deadline=deadline)

        async def do(effect: Effect | Repair) -> object:
            if isinstance(effect, Send):
                with Observed(clock, observer.sent):
                    return await self.transport.send(
                        effect.conversation, effect.token, deadline=deadline
                    )
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

        return _completion(await adrive(steps, do), resolved)


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
