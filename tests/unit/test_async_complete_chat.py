"""The asyncio use case drives the same rules as the sync one: token choice and refresh,
retries on the clock, one deadline, and one token fetch however many tasks start at once."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.messages import FAKE_REPLY, HELLO
from voigpt.domain import AccessToken
from voigpt.domain.complete_chat import AsyncCompleteChat
from voigpt.domain.errors import (
    AccessRejected,
    InvalidMessages,
    ServiceUnavailable,
    TimedOut,
)
from voigpt.domain.retry import RetryPolicy
from voigpt.testing import (
    AsyncFakeChatTransport,
    AsyncFakeClock,
    AsyncFakeTokenSource,
    AsyncInMemoryTokenCache,
    wired_with_fakes,
)


def make(
    transport: AsyncFakeChatTransport | None = None, **kwargs: object
) -> tuple[AsyncCompleteChat, AsyncFakeChatTransport, AsyncFakeTokenSource, AsyncFakeClock]:
    transport = transport or AsyncFakeChatTransport()
    source, clock = AsyncFakeTokenSource(), AsyncFakeClock()
    use_case = AsyncCompleteChat(
        transport, source, AsyncInMemoryTokenCache(), clock, **kwargs  # type: ignore[arg-type]
    )
    return use_case, transport, source, clock


def test_a_completion_fetches_a_token_sends_and_answers() -> None:
    use_case, transport, source, _ = make()
    completion = asyncio.run(use_case(HELLO, model=""))
    assert (completion.text, completion.model) == (FAKE_REPLY, "gpt-3.5-turbo")
    assert source.token_fetches == 1
    assert transport.sent[0].token == AccessToken("fake-token-1")


def test_a_rejected_token_is_replaced_once_and_the_request_resent() -> None:
    stale = AccessRejected("stale", status=403)
    use_case, transport, source, _ = make(AsyncFakeChatTransport(replies=[stale, "fresh"]))
    assert asyncio.run(use_case(HELLO)).text == "fresh"
    assert source.token_fetches == 2
    assert [s.token.value for s in transport.sent] == ["fake-token-1", "fake-token-2"]


def test_an_explicit_token_is_never_replaced() -> None:
    use_case, transport, source, _ = make(AsyncFakeChatTransport(accepted_tokens=["ok"]))
    with pytest.raises(AccessRejected, match="the access token you supplied") as caught:
        asyncio.run(use_case(HELLO, access_token="mine"))
    assert caught.value.explicit
    assert source.token_fetches == 0 and len(transport.sent) == 1


def test_a_transient_failure_is_retried_after_a_wait_on_the_clock() -> None:
    busy = ServiceUnavailable("busy", status=503)
    use_case, transport, _, clock = make(AsyncFakeChatTransport(replies=[busy, "ok"]))
    assert asyncio.run(use_case(HELLO)).text == "ok"
    assert len(clock.sleeps) == 1 and 0.25 <= clock.sleeps[0] <= 0.5
    assert len(transport.sent) == 2


def test_a_wait_that_would_pass_the_deadline_is_not_taken() -> None:
    busy = ServiceUnavailable("busy", status=503)
    transport = AsyncFakeChatTransport(replies=[busy, "ok"])
    use_case, _, _, clock = make(transport, deadline=0.1, retry=RetryPolicy(retries=2))
    with pytest.raises(ServiceUnavailable):
        asyncio.run(use_case(HELLO))
    assert clock.sleeps == []


def test_bad_messages_are_refused_before_any_io() -> None:
    use_case, transport, source, _ = make()
    with pytest.raises(InvalidMessages):
        asyncio.run(use_case([{"role": "robot", "content": "x"}]))
    assert transport.sent == [] and source.token_fetches == 0


def test_many_tasks_at_once_share_one_token_fetch() -> None:
    async def burst() -> list[str]:
        with wired_with_fakes() as fakes:
            client = fakes.async_client()
            replies = await asyncio.gather(*(client.ask(f"hi {n}") for n in range(200)))
            assert fakes.async_token_source.token_fetches == 1
            assert fakes.token_source.token_fetches == 0  # the sync side was not used
            return replies

    replies = asyncio.run(burst())
    assert replies == [f"[voigpt fake] You said: hi {n}" for n in range(200)]


def test_the_deadline_error_of_a_transport_passes_through() -> None:
    late = TimedOut("sending the conversation: the 1s deadline passed (timeout)")
    use_case, *_ = make(AsyncFakeChatTransport(replies=[late]))
    with pytest.raises(TimedOut, match="deadline passed"):
        asyncio.run(use_case(HELLO))
