"""Fakes for offline tests: they hold real state to assert on (``sent``,
``token_fetches``, ``sleeps``) and are safe to share across threads, like the adapters
they stand in for::

    transport = FakeChatTransport(replies=["Hi!"])
    source = FakeTokenSource()
    ...
    assert transport.sent[0].conversation.messages[-1].content == "Hello"
    assert source.token_fetches == 1
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable, Iterable

import attrs

from voigpt.domain.errors import AccessRejected
from voigpt.domain.retry import Deadline
from voigpt.domain.values import AccessToken, Conversation, Role

Handler = Callable[[Conversation, AccessToken], str]
"""What a fake chat transport calls once its scripted replies run out:
``handler(conversation, token)`` returns the reply text (or raises a ``VoiGptError``)."""


class _FakeTokens:
    def __init__(self, tokens: Iterable[str] = ()) -> None:
        self._scripted = deque(tokens)
        self._lock = threading.Lock()
        self.token_fetches = 0

    def _next(self) -> AccessToken:
        with self._lock:
            self.token_fetches += 1
            value = (
                self._scripted.popleft() if self._scripted else f"fake-token-{self.token_fetches}"
            )
        return AccessToken(value)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(token_fetches={self.token_fetches})"


class FakeTokenSource(_FakeTokens):
    """Hands out ``fake-token-1``, ``fake-token-2``... (or the tokens given) and counts.

    :param tokens: tokens handed out first, in order; after them, ``fake-token-N`` where
        ``N`` is the fetch's number.
    :ivar token_fetches: how many tokens were fetched so far.
    """

    def fetch(self, *, deadline: Deadline | None = None) -> AccessToken:
        """The next token; counts the fetch. ``deadline`` is ignored."""
        return self._next()


class AsyncFakeTokenSource(_FakeTokens):
    """``FakeTokenSource`` for asyncio: the same ``tokens`` argument and
    ``token_fetches``; ``fetch`` is a coroutine."""

    async def fetch(self, *, deadline: Deadline | None = None) -> AccessToken:
        """The next token; counts the fetch. ``deadline`` is ignored."""
        await asyncio.sleep(0)  # a real fetch lets other tasks run meanwhile
        return self._next()


@attrs.frozen
class SentRequest:
    """What a fake chat transport was asked to send: one item of its ``sent`` list.

    :ivar conversation: the ``Conversation`` sent (``conversation.to_dicts()`` gives the
        plain dicts).
    :ivar token: the ``AccessToken`` it was sent with.
    """

    conversation: Conversation
    token: AccessToken


def echo_reply(conversation: Conversation, token: AccessToken) -> str:
    """The default fake reply: deterministic and visibly fake."""
    users = [m.content for m in conversation.messages if m.role is Role.USER]
    return f"[voigpt fake] You said: {users[-1]}" if users else "[voigpt fake] No user message."


class _FakeReplies:
    def __init__(
        self,
        replies: Iterable[str | BaseException] = (),
        *,
        handler: Handler = echo_reply,
        accepted_tokens: Iterable[str] | None = None,
    ) -> None:
        self._replies = deque(replies)
        self._handler = handler
        self._accepted = None if accepted_tokens is None else frozenset(accepted_tokens)
        self._lock = threading.Lock()
        self.sent: list[SentRequest] = []

    def _reply(self, conversation: Conversation, token: AccessToken) -> str:
        with self._lock:
            self.sent.append(SentRequest(conversation, token))
            if self._accepted is not None and token.value not in self._accepted:
                raise AccessRejected("the fake service rejected the CSRF token", status=403)
            scripted = self._replies.popleft() if self._replies else None
        if isinstance(scripted, BaseException):
            raise scripted
        if scripted is not None:
            return scripted
        return self._handler(conversation, token)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(sent={len(self.sent)})"


class FakeChatTransport(_FakeReplies):
    """A chat transport that never touches the network. Safe to share across threads.

    :param replies: scripted answers used in order; an exception instance is raised
        instead of answered (e.g. ``AccessRejected("stale")``).
    :param handler: a plain function ``(conversation, token) -> text`` used once the script
        runs out (default: ``echo_reply``).
    :param accepted_tokens: if given, any other token is answered with ``AccessRejected``,
        as the real service does with a stale csrftoken.
    :ivar sent: every request it was asked to send, a ``SentRequest`` each, oldest first
        (a refused token's request included).
    """

    def send(
        self, conversation: Conversation, token: AccessToken, *, deadline: Deadline | None = None
    ) -> str:
        """Record the request in ``sent``, then answer it: a refused token, the next
        scripted reply, or the handler's. ``deadline`` is ignored."""
        return self._reply(conversation, token)


class AsyncFakeChatTransport(_FakeReplies):
    """``FakeChatTransport`` for asyncio: the same arguments and ``sent``; ``send`` is a
    coroutine. ``handler`` stays a plain function."""

    async def send(
        self, conversation: Conversation, token: AccessToken, *, deadline: Deadline | None = None
    ) -> str:
        """Record the request in ``sent``, then answer it, as ``FakeChatTransport.send``
        does. ``deadline`` is ignored."""
        await asyncio.sleep(0)  # a real transport lets other tasks run
        return self._reply(conversation, token)


class _FakeTime:
    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def now(self) -> float:
        """The fake time, in seconds: ``start``, plus every sleep and ``advance`` since."""
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Move the time on by ``seconds`` without recording a sleep."""
        with self._lock:
            self._now += seconds

    def _slept(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self._now += seconds


class FakeClock(_FakeTime):
    """A clock that only moves when slept on (or advanced), so retry waits take no time.

    :param start: the time it starts at, in seconds.
    :ivar sleeps: every wait asked for, in seconds, oldest first.
    """

    def sleep(self, seconds: float) -> None:
        """Record the wait in ``sleeps`` and move the time on by it, at once."""
        self._slept(seconds)


class AsyncFakeClock(_FakeTime):
    """``FakeClock`` for asyncio: the same ``start``, ``sleeps``, ``now`` and ``advance``;
    ``sleep`` is a coroutine that returns at once."""

    async def sleep(self, seconds: float) -> None:
        """Record the wait in ``sleeps`` and move the time on by it, at once."""
        self._slept(seconds)
