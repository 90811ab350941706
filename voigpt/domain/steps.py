"""The completion rules, written once for sync and async callers (sans I/O).

``completion_steps`` is a generator: it yields each thing it needs done (an ``Effect``) and
is sent the result, or has the error thrown in. It never touches a port itself, so the sync
use case and the async one are two small drivers over the same rules:

1. The token is the explicit one; else the cached one, else a fresh one (single flight).
2. Send. A cached or fetched token the service rejects (403 CSRF) is forgotten, a fresh one
   is fetched once and the request sent once more; an explicit token is never replaced (its
   rejection is reported).
3. Transient failures are retried under ``RetryPolicy``; every attempt and wait counts
   against one ``Deadline``, and a wait that would pass it is not taken. Sending is not
   idempotent (the site may have answered already): a send whose connection broke once
   the answer had begun is not retried. Fetching a token is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from typing import TypeVar

import attrs

from voigpt.domain.errors import AccessRejected, VoiGptError
from voigpt.domain.retry import Deadline, RetryPolicy
from voigpt.domain.values import AccessToken, Conversation


@attrs.frozen
class GetToken:
    """The cached token, or a freshly fetched one (concurrent misses share one fetch)."""


GET_TOKEN = GetToken()  # it has no fields: one is every one


@attrs.frozen
class Send:
    """Send the conversation with the token; the result is the reply text."""

    conversation: Conversation
    token: AccessToken


@attrs.frozen
class Forget:
    """The token was rejected: drop it from the cache (if it is still the cached one)."""

    token: AccessToken


@attrs.frozen
class Wait:
    """Sleep before the next attempt, which retries after ``error``."""

    seconds: float
    error: VoiGptError | None = None


Effect = GetToken | Send | Forget | Wait
Steps = Generator[Effect, object, str]
E = TypeVar("E")
T = TypeVar("T")


def completion_steps(
    conversation: Conversation,
    explicit: AccessToken | None,
    retry: RetryPolicy,
    deadline: Deadline,
    jitter: Callable[[], float],
) -> Steps:
    attempt = 0
    while True:
        sends = _Sends()
        try:
            if explicit is not None:
                return (yield from _with_explicit(conversation, explicit, sends))
            return (yield from _with_managed(conversation, sends))
        except VoiGptError as error:
            if not retry.should_retry(error, attempt, idempotent=error is not sends.failed):
                raise
            pause = retry.pause(error, attempt, jitter())
            if pause >= deadline.remaining():
                raise
            yield Wait(pause, error)
            attempt += 1


@attrs.define
class _Sends:
    """The sends of one attempt: ``failed`` is the error the last one raised, if it did."""

    failed: VoiGptError | None = None

    def send(self, conversation: Conversation, token: AccessToken) -> Steps:
        try:
            return _text((yield Send(conversation, token)))
        except VoiGptError as error:
            self.failed = error
            raise


def _with_explicit(conversation: Conversation, token: AccessToken, sends: _Sends) -> Steps:
    try:
        return (yield from sends.send(conversation, token))
    except AccessRejected as exc:
        raise AccessRejected(
            "the service rejected the access token you supplied; get a fresh csrftoken "
            "from the site, or pass no access_token and let voigpt fetch one",
            status=exc.status,
            explicit=True,
        ) from exc


def _with_managed(conversation: Conversation, sends: _Sends) -> Steps:
    token = _token((yield GET_TOKEN))
    try:
        return (yield from sends.send(conversation, token))
    except AccessRejected:
        yield Forget(token)
    fresh = _token((yield GET_TOKEN))
    try:
        return (yield from sends.send(conversation, fresh))
    except AccessRejected as exc:
        yield Forget(fresh)
        raise AccessRejected(
            "the service rejected a freshly fetched token too; the site may have changed "
            "its protocol or be refusing this client",
            status=exc.status,
        ) from exc


def drive(steps: Generator[E, object, T], do: Callable[[E], object]) -> T:
    """Run ``steps`` to the end, doing each effect with ``do`` (the sync driver's loop)."""
    result: object = None
    error: Exception | None = None
    while True:
        try:
            effect = steps.send(result) if error is None else steps.throw(error)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        try:
            result, error = do(effect), None
        except Exception as exc:
            result, error = None, exc


async def adrive(steps: Generator[E, object, T], do: Callable[[E], Awaitable[object]]) -> T:
    """``drive`` for asyncio: each effect is awaited."""
    # Twin of drive, kept apart because ``await`` cannot be passed in: a loop shared by both
    # would need the sync driver to run an event loop per call (the rules themselves are one).
    result: object = None
    error: Exception | None = None
    while True:
        try:
            effect = steps.send(result) if error is None else steps.throw(error)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        try:
            result, error = await do(effect), None
        except Exception as exc:
            result, error = None, exc


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"a transport returned {type(value).__name__}, not the reply text")
    return value


def _token(value: object) -> AccessToken:
    if not isinstance(value, AccessToken):
        raise TypeError(f"a token cache returned {type(value).__name__}, not an AccessToken")
    return value
