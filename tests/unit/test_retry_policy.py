"""Retries, backoff and the deadline, through the clock port: no test here really sleeps."""

from __future__ import annotations

import pytest

from tests.support.messages import HELLO
from voigpt.domain import CompleteChat
from voigpt.domain.errors import (
    Blocked,
    ConnectionFailed,
    MalformedReply,
    RateLimited,
    ServiceUnavailable,
    TimedOut,
    UnexpectedStatus,
    UntrustedCertificate,
    VoiGptError,
)
from voigpt.domain.retry import Deadline, RetryPolicy
from voigpt.testing import FakeChatTransport, FakeClock, FakeTokenSource, InMemoryTokenCache


def run(
    replies: list[str | BaseException],
    *,
    retries: int = 2,
    deadline: float = 90.0,
    jitter: float = 0.0,
) -> tuple[str | VoiGptError, FakeChatTransport, FakeClock]:
    transport, clock = FakeChatTransport(replies), FakeClock()
    use_case = CompleteChat(
        transport, FakeTokenSource(), InMemoryTokenCache(), clock,
        retry=RetryPolicy(retries=retries), deadline=deadline, jitter=lambda: jitter,
    )
    try:
        outcome: str | VoiGptError = use_case(HELLO).text
    except VoiGptError as exc:
        outcome = exc
    return outcome, transport, clock


@pytest.mark.parametrize(
    "transient",
    [
        ConnectionFailed("refused"),
        ConnectionFailed("dropped before the reply"),
        RateLimited("429", retry_after=None),
        ServiceUnavailable("bad gateway", status=502),
        ServiceUnavailable("unavailable", status=503),
        ServiceUnavailable("gateway timeout", status=504),
    ],
    ids=["refused", "dropped", "429", "502", "503", "504"],
)
def test_transient_failures_are_retried_and_then_succeed(transient: VoiGptError) -> None:
    outcome, transport, clock = run([transient, transient, "ok"])
    assert outcome == "ok"
    assert len(transport.sent) == 3
    assert clock.sleeps == [0.25, 0.5]  # jitter 0: half of 0.5 s, then half of 1 s


@pytest.mark.parametrize(
    "final",
    [
        ServiceUnavailable("boom", status=500),
        UnexpectedStatus("bad request", status=400),
        MalformedReply("not JSON", status=200),
        Blocked("challenge", status=503),
        TimedOut("read timeout"),
        ConnectionFailed("proxy says 407", status=407),
        UntrustedCertificate("self-signed"),
    ],
    ids=["500", "400", "malformed-200", "anti-bot", "timeout", "proxy-407", "untrusted-cert"],
)
def test_other_failures_are_never_retried(final: VoiGptError) -> None:
    outcome, transport, clock = run([final, "never reached"])
    assert outcome is final
    assert len(transport.sent) == 1
    assert clock.sleeps == []


def test_retries_are_bounded_and_the_last_error_is_raised() -> None:
    errors = [ServiceUnavailable(f"down {i}", status=503) for i in range(5)]
    outcome, transport, clock = run(list(errors), retries=2)
    assert outcome is errors[2]
    assert len(transport.sent) == 3
    assert len(clock.sleeps) == 2


def test_zero_retries_disables_them() -> None:
    outcome, transport, _ = run([ConnectionFailed("x"), "ok"], retries=0)
    assert isinstance(outcome, ConnectionFailed)
    assert len(transport.sent) == 1


def test_backoff_grows_exponentially_with_jitter_and_is_capped() -> None:
    policy = RetryPolicy(retries=10)
    error = ConnectionFailed("x")
    lows = [policy.pause(error, attempt, 0.0) for attempt in range(8)]
    highs = [policy.pause(error, attempt, 0.999999) for attempt in range(8)]
    assert lows == [0.25, 0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0]
    assert highs == pytest.approx([0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0, 8.0], rel=1e-5)


def test_retry_after_replaces_the_backoff_up_to_a_cap() -> None:
    outcome, _, clock = run([RateLimited("429", retry_after=7.0), "ok"])
    assert outcome == "ok"
    assert clock.sleeps == [7.0]
    assert RetryPolicy().pause(RateLimited("429", retry_after=600.0), 0, 0.5) == 60.0


def test_a_wait_that_would_pass_the_deadline_is_not_taken() -> None:
    rate_limited = RateLimited("429", retry_after=30.0)
    outcome, transport, clock = run([rate_limited, "ok"], deadline=10.0)
    assert outcome is rate_limited
    assert clock.sleeps == []
    assert len(transport.sent) == 1


def test_deadline_check_raises_timed_out_once_spent() -> None:
    clock = FakeClock()
    deadline = Deadline.after(clock, 5.0)
    assert deadline.check("sending") == 5.0
    clock.advance(5.0)
    with pytest.raises(TimedOut, match="the 5s deadline passed"):
        deadline.check("sending")
