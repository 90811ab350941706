"""What is sent again after a broken connection: the completion only when it is known not to
have been processed (refused, dropped before any byte of the answer), the token's GET as
before. Through the clock port: nothing here really sleeps."""

from __future__ import annotations

import pytest

from tests.support.messages import HELLO
from voigpt.domain import CompleteChat
from voigpt.domain.errors import AccessRejected, ConnectionFailed, VoiGptError
from voigpt.domain.retry import Deadline, RetryPolicy
from voigpt.domain.values import AccessToken
from voigpt.ports.token_source import TokenSource
from voigpt.testing import FakeChatTransport, FakeClock, FakeTokenSource, InMemoryTokenCache

MID_ANSWER = ConnectionFailed("broke mid-reply", answer_began=True)
BEFORE_ANSWER = ConnectionFailed("dropped before the reply")


class FlakyTokenSource:
    """Fails the fetches numbered in ``failures`` (from 1), hands out tokens otherwise, and
    counts fetches."""

    def __init__(self, failures: dict[int, VoiGptError]) -> None:
        self.failures = failures
        self.token_fetches = 0

    def fetch(self, *, deadline: Deadline | None = None) -> AccessToken:
        self.token_fetches += 1
        if self.token_fetches in self.failures:
            raise self.failures[self.token_fetches]
        return AccessToken(f"token-{self.token_fetches}")


def complete(
    transport: FakeChatTransport, source: TokenSource | None = None
) -> str | VoiGptError:
    use_case = CompleteChat(
        transport, source or FakeTokenSource(), InMemoryTokenCache(), FakeClock(),
        retry=RetryPolicy(retries=2), jitter=lambda: 0.0,
    )
    try:
        return use_case(HELLO).text
    except VoiGptError as exc:
        return exc


def test_a_completion_whose_answer_broke_midway_is_sent_once() -> None:
    transport = FakeChatTransport([MID_ANSWER, "never sent"])
    assert complete(transport) is MID_ANSWER
    assert len(transport.sent) == 1


def test_a_completion_dropped_before_any_answer_is_sent_again() -> None:
    transport = FakeChatTransport([BEFORE_ANSWER, BEFORE_ANSWER, "ok"])
    assert complete(transport) == "ok"
    assert len(transport.sent) == 3


def test_a_token_fetch_whose_answer_broke_midway_is_retried() -> None:
    source = FlakyTokenSource({1: MID_ANSWER, 2: MID_ANSWER})
    transport = FakeChatTransport(["ok"])
    assert complete(transport, source) == "ok"
    assert source.token_fetches == 3
    assert len(transport.sent) == 1


def test_the_fresh_token_fetch_after_a_rejection_is_retried_when_its_answer_broke() -> None:
    source = FlakyTokenSource({2: MID_ANSWER})  # the fetch after the 403
    transport = FakeChatTransport([AccessRejected("stale token"), "ok"])
    assert complete(transport, source) == "ok"
    assert source.token_fetches == 3
    assert len(transport.sent) == 2


@pytest.mark.parametrize("idempotent", [True, False])
def test_the_policy_resends_only_what_may_be_done_twice(idempotent: bool) -> None:
    policy = RetryPolicy(retries=2)
    assert policy.should_retry(BEFORE_ANSWER, 0, idempotent=idempotent)
    assert policy.should_retry(MID_ANSWER, 0, idempotent=idempotent) is idempotent
