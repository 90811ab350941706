"""The use case tells its ``CompletionObserver`` what happened: each token fetch and each
chat request to the site (with its error, if any), and each retry with its cause. The
server's metrics are built on these calls."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.messages import HELLO
from voigpt.domain.complete_chat import AsyncCompleteChat, CompleteChat
from voigpt.domain.errors import AccessRejected, ServiceUnavailable, TokenUnavailable
from voigpt.domain.retry import RetryPolicy
from voigpt.testing import (
    AsyncFakeChatTransport,
    AsyncFakeClock,
    AsyncFakeTokenSource,
    AsyncInMemoryTokenCache,
    FakeChatTransport,
    FakeClock,
    FakeTokenSource,
    InMemoryTokenCache,
    wired_with_fakes,
)


class RecordingObserver:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None]] = []

    def token_fetched(self, seconds: float, error: Exception | None) -> None:
        assert seconds >= 0
        self.calls.append(("token", _name(error)))

    def sent(self, seconds: float, error: Exception | None) -> None:
        assert seconds >= 0
        self.calls.append(("sent", _name(error)))

    def retrying(self, error: Exception, pause: float) -> None:
        assert pause > 0
        self.calls.append(("retry", _name(error)))

    def repairing(self, problem: str) -> None:
        self.calls.append(("repair", problem))


def _name(error: Exception | None) -> str | None:
    return None if error is None else type(error).__name__


STALE = AccessRejected("stale", status=403)
DOWN = ServiceUnavailable("down", status=503)
EXPECTED = [
    ("token", None), ("sent", "AccessRejected"),  # the first token is refused
    ("token", None), ("sent", "ServiceUnavailable"),  # a fresh one; the site is down
    ("retry", "ServiceUnavailable"),
    ("sent", None),  # the fresh token is still cached: no fetch, and the site answers
]


def test_the_sync_use_case_reports_fetches_sends_and_retries() -> None:
    observer = RecordingObserver()
    use_case = CompleteChat(
        FakeChatTransport(replies=[STALE, DOWN, "hi"]), FakeTokenSource(),
        InMemoryTokenCache(), FakeClock(), observer=observer,
    )
    assert use_case(HELLO).text == "hi"
    assert observer.calls == EXPECTED


def test_the_async_use_case_reports_fetches_sends_and_retries() -> None:
    observer = RecordingObserver()
    use_case = AsyncCompleteChat(
        AsyncFakeChatTransport(replies=[STALE, DOWN, "hi"]), AsyncFakeTokenSource(),
        AsyncInMemoryTokenCache(), AsyncFakeClock(), observer=observer,
    )
    assert asyncio.run(use_case(HELLO)).text == "hi"
    assert observer.calls == EXPECTED


def test_a_failed_token_fetch_is_reported_with_its_error() -> None:
    class NoToken(FakeTokenSource):
        def fetch(self, *, deadline: object = None) -> object:  # type: ignore[override]
            raise TokenUnavailable("no cookie")

    observer = RecordingObserver()
    use_case = CompleteChat(
        FakeChatTransport(), NoToken(), InMemoryTokenCache(), FakeClock(), observer=observer,
        retry=RetryPolicy(retries=0),
    )
    with pytest.raises(TokenUnavailable):
        use_case(HELLO)
    assert observer.calls == [("token", "TokenUnavailable")]


def test_the_container_passes_its_observer_to_both_use_cases() -> None:
    observer = RecordingObserver()
    with wired_with_fakes() as fakes:
        fakes.container.observer.override(observer)
        fakes.client().complete(HELLO)
        asyncio.run(fakes.async_client().complete(HELLO))
    assert observer.calls.count(("sent", None)) == 2


def test_a_cancelled_request_is_reported_as_cancelled_not_as_a_reply() -> None:
    class Hanging(AsyncFakeChatTransport):
        async def send(self, *args: object, **kwargs: object) -> str:  # type: ignore[override]
            await asyncio.sleep(60)
            return "never"

    observer = RecordingObserver()
    use_case = AsyncCompleteChat(
        Hanging(), AsyncFakeTokenSource(), AsyncInMemoryTokenCache(), AsyncFakeClock(),
        observer=observer,
    )

    async def cancel_midway() -> None:
        task = asyncio.ensure_future(use_case(HELLO))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_midway())
    assert observer.calls == [("token", None), ("sent", "CancelledError")]
