"""Every fault the emulator can inject, met by voigpt's own client: the documented outcome,
within a bound on the time it takes (a generous bound: these are not benchmarks)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.support.faults import FAULTS, fault_id
from tests.support.messages import EMULATOR_REPLY, HELLO
from voigpt import Client
from voigpt.domain.errors import (
    Blocked,
    RateLimited,
    ServiceUnavailable,
    TimedOut,
    VoiGptError,
)
from voigpt.emulator import Emulator, Fault


@pytest.fixture
def client(voigpt_emulator: Emulator) -> Iterator[Client]:
    """No retries: each fault's own error is what surfaces."""
    with Client(base_url=voigpt_emulator.url, timeout=2, retries=0, environ={}) as client:
        yield client


@pytest.fixture
def retrying(voigpt_emulator: Emulator) -> Iterator[Client]:
    """The defaults: 2 retries with backoff, under a 5 s deadline."""
    with Client(base_url=voigpt_emulator.url, timeout=5, environ={}) as client:
        yield client


def posts(emulator: Emulator) -> int:
    return sum(1 for r in emulator.requests if r.method == "POST")


def timed(client: Client) -> tuple[str | VoiGptError, float]:
    started = time.monotonic()
    try:
        outcome: str | VoiGptError = client.complete(HELLO).text
    except VoiGptError as exc:
        outcome = exc
    return outcome, time.monotonic() - started


@pytest.mark.parametrize(("fault", "params", "expected", "words"), FAULTS, ids=fault_id)
def test_fault_is_reported_as_a_specific_error(
    voigpt_emulator: Emulator,
    client: Client,
    fault: Fault,
    params: dict[str, object],
    expected: type[VoiGptError],
    words: str,
) -> None:
    client.complete(HELLO)  # warm: token cached, connection open
    voigpt_emulator.inject(fault, **params)
    outcome, seconds = timed(client)
    assert isinstance(outcome, expected), outcome
    assert words in str(outcome)
    assert seconds < 4.5
    assert client.complete(HELLO).text == EMULATOR_REPLY  # the fault was one-shot: it recovers


def test_rate_limit_carries_retry_after_as_an_http_date(
    voigpt_emulator: Emulator, client: Client
) -> None:
    voigpt_emulator.inject(Fault.RATE_LIMITED, retry_after="Wed, 21 Oct 2015 07:28:00 GMT")
    outcome, _ = timed(client)
    assert isinstance(outcome, RateLimited)
    assert outcome.retry_after == 0.0  # a date in the past means "now"


def test_a_stale_token_is_refreshed_once_and_the_call_succeeds(
    voigpt_emulator: Emulator, client: Client
) -> None:
    client.complete(HELLO)
    voigpt_emulator.inject(Fault.STALE_TOKEN)
    outcome, seconds = timed(client)
    assert outcome == EMULATOR_REPLY
    assert len(voigpt_emulator.tokens_issued) == 2
    assert seconds < 2


def test_revoked_tokens_are_replaced_transparently(
    voigpt_emulator: Emulator, client: Client
) -> None:
    client.complete(HELLO)
    voigpt_emulator.revoke_tokens()
    assert client.complete(HELLO).text == EMULATOR_REPLY
    assert len(voigpt_emulator.tokens_issued) == 2
    assert len(voigpt_emulator.rejections) == 1


def test_a_fault_on_the_token_page_is_reported_too(
    voigpt_emulator: Emulator, client: Client
) -> None:
    voigpt_emulator.inject(Fault.ANTI_BOT, endpoint="token")
    outcome, _ = timed(client)
    assert isinstance(outcome, Blocked)
    assert "fetching a token" in str(outcome)


@pytest.mark.parametrize(
    ("fault", "params"),
    [
        (Fault.RATE_LIMITED, {"retry_after": "0"}),
        (Fault.SERVER_ERROR, {"status": 502}),
        (Fault.SERVER_ERROR, {"status": 503}),
        (Fault.DROP_CONNECTION, {}),
    ],
    ids=["429", "502", "503", "dropped"],
)
def test_a_transient_fault_is_retried_and_the_call_succeeds(
    voigpt_emulator: Emulator, retrying: Client, fault: Fault, params: dict[str, object]
) -> None:
    retrying.complete(HELLO)
    voigpt_emulator.inject(fault, **params)
    outcome, seconds = timed(retrying)
    assert outcome == EMULATOR_REPLY
    assert posts(voigpt_emulator) == 3  # warm-up, the faulted try, the retry
    assert seconds < 3


@pytest.mark.parametrize(
    ("fault", "params"),
    [
        (Fault.SERVER_ERROR, {"status": 500}),
        (Fault.HTML_INSTEAD_OF_JSON, {}),
        (Fault.MISSING_RESPONSE, {}),
        (Fault.ANTI_BOT, {}),
    ],
    ids=["500", "html-200", "no-response-200", "anti-bot"],
)
def test_a_permanent_fault_is_tried_once(
    voigpt_emulator: Emulator, retrying: Client, fault: Fault, params: dict[str, object]
) -> None:
    voigpt_emulator.inject(fault, **params)
    outcome, _ = timed(retrying)
    assert isinstance(outcome, VoiGptError)
    assert posts(voigpt_emulator) == 1


def test_a_persistent_outage_gives_up_after_two_retries_within_the_deadline(
    voigpt_emulator: Emulator, retrying: Client
) -> None:
    voigpt_emulator.inject(Fault.SERVER_ERROR, status=503, times=None)
    outcome, seconds = timed(retrying)
    assert isinstance(outcome, ServiceUnavailable)
    assert posts(voigpt_emulator) == 3
    assert seconds < 5  # backoff waits of at most 0.5 s + 1 s, inside the 5 s deadline


def test_a_hung_server_is_reported_as_timed_out_within_the_deadline(
    voigpt_emulator: Emulator,
) -> None:
    voigpt_emulator.inject(Fault.SLOW, delay=30, times=None)
    with Client(base_url=voigpt_emulator.url, timeout=1.5, environ={}) as client:
        outcome, seconds = timed(client)
    assert isinstance(outcome, TimedOut)
    assert seconds < 1.5 + 1
