"""Scripting what the emulator answers: ``Emulator(reply=fn)``, the FIFO of ``queue_replies``,
and its control endpoint (``/__emulator__/replies``), all over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from tests.emulator.helpers import GENERATE, HELLO, REPLY, SiteClient, csrf_headers
from voigpt import Client
from voigpt.emulator import Emulator

REPLIES = "/__emulator__/replies"
STATE = "/__emulator__/state"
SERVER_ERROR_TITLE = "<title>Server Error (500)</title>"
TOOL_CALL = '{"tool_call": {"name": "get_weather", "arguments": {"city": "Paris"}}}'
CONVERSATION = [
    {"role": "system", "content": "Answer in JSON."},
    {"role": "user", "content": "Weather?"},
    {"role": "assistant", "content": "Where?"},
    {"role": "user", "content": "Paris"},
]


def _fixed(text: str) -> Any:
    return lambda messages: text


@pytest.fixture
def scripted() -> Iterator[Emulator]:
    """An emulator whose reply function answers "fallback"."""
    with Emulator(reply=_fixed("fallback")) as emulator:
        yield emulator


def _replies(emulator: Emulator, count: int) -> list[str]:
    client = SiteClient(emulator)
    try:
        answers = [client.complete() for _ in range(count)]
    finally:
        client.session.close()
    assert [a.status_code for a in answers] == [200] * count, [a.text for a in answers]
    return [a.json()["response"] for a in answers]


# -- the reply function --------------------------------------------------------------------


def test_the_default_is_still_the_echo(emulator: Emulator) -> None:
    assert _replies(emulator, 1) == [REPLY] == ["[voigpt emulator] You said: hello"]
    assert emulator.replies_pending == 0


def test_the_reply_function_sees_the_messages_and_its_text_is_the_reply() -> None:
    seen: list[object] = []

    def reply(messages: list[dict[str, Any]]) -> str:
        seen.append(messages)
        return f"{len(messages)} messages, the last: {messages[-1]['content']}"

    with Emulator(reply=reply) as emulator:
        client = SiteClient(emulator)
        response = client.complete(CONVERSATION)
        client.session.close()

    assert response.status_code == 200
    assert response.json() == {"response": "4 messages, the last: Paris"}
    assert seen == [CONVERSATION]
    assert emulator.completions == 1


def test_a_reply_function_that_is_not_callable_is_refused() -> None:
    with pytest.raises(TypeError, match="reply must be a callable, got str"):
        Emulator(reply="hello")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("outcome", "logged"),
    [
        ("raise", "RuntimeError: the model is down"),
        (None, "returned NoneType, not str"),
        (b"bytes", "returned bytes, not str"),
    ],
    ids=["raises", "returns-None", "returns-bytes"],
)
def test_a_failing_reply_function_is_a_500_and_the_emulator_keeps_serving(
    caplog: pytest.LogCaptureFixture, outcome: object, logged: str
) -> None:
    calls = []

    def reply(messages: list[dict[str, Any]]) -> Any:
        calls.append(messages)
        if len(calls) > 1:
            return "recovered"
        if outcome == "raise":
            raise RuntimeError("the model is down")
        return outcome

    caplog.set_level(logging.ERROR, logger="voigpt.emulator")
    with Emulator(reply=reply) as emulator:
        client = SiteClient(emulator)
        failed = client.complete()
        served = client.complete()
        client.session.close()

    assert failed.status_code == 500
    assert failed.headers["Content-Type"] == "text/html; charset=utf-8"
    assert SERVER_ERROR_TITLE in failed.text
    assert served.status_code == 200
    assert served.json() == {"response": "recovered"}
    assert emulator.completions == 1  # only the one answered with a reply
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == ["voigpt emulator: the reply function failed"]
    assert errors[0].exc_info is not None
    assert logged in caplog.text


# -- the queue -----------------------------------------------------------------------------


def test_queued_replies_come_first_in_order_then_the_reply_function(scripted: Emulator) -> None:
    scripted.queue_replies("one", "two")
    scripted.queue_replies("three")

    assert scripted.replies_pending == 3
    assert _replies(scripted, 5) == ["one", "two", "three", "fallback", "fallback"]
    assert scripted.replies_pending == 0


def test_the_default_falls_back_to_the_echo(emulator: Emulator) -> None:
    emulator.queue_replies(TOOL_CALL)

    assert _replies(emulator, 2) == [TOOL_CALL, REPLY]


def test_a_queued_callable_answers_once_with_the_messages(scripted: Emulator) -> None:
    seen = []

    def once(messages: list[dict[str, Any]]) -> str:
        seen.append(messages)
        return "scripted: " + messages[-1]["content"]

    scripted.queue_replies(once, "then text")

    assert _replies(scripted, 3) == ["scripted: hello", "then text", "fallback"]
    assert seen == [HELLO]


def test_a_queued_callable_that_raises_is_a_500_and_is_used_up(
    scripted: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(messages: list[dict[str, Any]]) -> str:
        raise ValueError("scripted failure")

    caplog.set_level(logging.ERROR, logger="voigpt.emulator")
    scripted.queue_replies(broken, "next")
    client = SiteClient(scripted)
    statuses = [client.complete() for _ in range(3)]
    client.session.close()

    assert [s.status_code for s in statuses] == [500, 200, 200]
    assert [s.json()["response"] for s in statuses[1:]] == ["next", "fallback"]
    assert "ValueError: scripted failure" in caplog.text


def test_rejected_requests_use_no_queued_reply(scripted: Emulator) -> None:
    scripted.queue_replies("kept")
    client = SiteClient(scripted)
    no_token = client.generate()
    bad_body = client.generate([], token=client.token())
    client.session.close()

    assert (no_token.status_code, bad_body.status_code) == (403, 400)
    assert scripted.replies_pending == 1
    assert _replies(scripted, 1) == ["kept"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("ok", 3, "never"), "at index 1 must be a str or a callable, got int"),
        ((None,), "at index 0 must be a str or a callable, got NoneType"),
        (("ok", b"bytes"), "at index 1 must be a str or a callable, got bytes"),
    ],
)
def test_queue_replies_refuses_anything_else_and_queues_nothing(
    scripted: Emulator, arguments: tuple[Any, ...], message: str
) -> None:
    scripted.queue_replies("before")

    with pytest.raises(TypeError) as refused:
        scripted.queue_replies(*arguments)

    assert str(refused.value) == "queue_replies() argument " + message
    assert scripted.replies_pending == 1
    assert _replies(scripted, 2) == ["before", "fallback"]


def test_clear_replies_forgets_the_queue(scripted: Emulator) -> None:
    scripted.queue_replies("a", _fixed("b"))
    scripted.clear_replies()

    assert scripted.replies_pending == 0
    assert _replies(scripted, 1) == ["fallback"]


def test_concurrent_requests_each_take_a_distinct_queued_reply(scripted: Emulator) -> None:
    count = 20
    expected = [f"reply {n}" for n in range(count)]
    scripted.queue_replies(*expected)
    start = threading.Barrier(count)

    def one(_: int) -> str:
        client = SiteClient(scripted)
        try:
            token = client.token()
            start.wait(timeout=10)
            response = client.generate(token=token)
        finally:
            client.session.close()
        assert response.status_code == 200, response.text
        return str(response.json()["response"])

    with ThreadPoolExecutor(count) as pool:
        got = list(pool.map(one, range(count)))

    assert sorted(got) == sorted(expected)  # each one exactly once
    assert scripted.replies_pending == 0
    assert scripted.completions == count
    assert _replies(scripted, 1) == ["fallback"]


def test_the_client_gets_the_queued_text(emulator: Emulator) -> None:
    emulator.queue_replies(TOOL_CALL)

    with Client(base_url=emulator.url) as client:
        answer = client.ask("hi")
        echo = client.ask("hi")

    assert answer == TOOL_CALL
    assert json.loads(answer)["tool_call"]["name"] == "get_weather"
    assert echo == "[voigpt emulator] You said: hi"


# -- the control endpoint ------------------------------------------------------------------


def _state(emulator: Emulator) -> dict[str, Any]:
    response = requests.get(emulator.url + STATE, timeout=10)
    assert response.status_code == 200
    return dict(response.json())


def test_control_post_appends_and_state_counts(control_emulator: Emulator) -> None:
    control_emulator.queue_replies("from python")
    first = requests.post(control_emulator.url + REPLIES, json={"replies": ["a", TOOL_CALL]},
                          timeout=10)
    second = requests.post(control_emulator.url + REPLIES, json={"replies": []}, timeout=10)

    assert (first.status_code, first.content) == (204, b"")
    assert second.status_code == 204
    assert _state(control_emulator)["replies_pending"] == 3
    assert _replies(control_emulator, 4) == ["from python", "a", TOOL_CALL, REPLY]
    assert _state(control_emulator)["replies_pending"] == 0
    assert not any(r.path.startswith("/__emulator__") for r in control_emulator.requests)


def test_control_delete_clears(control_emulator: Emulator) -> None:
    requests.post(control_emulator.url + REPLIES, json={"replies": ["x", "y"]}, timeout=10)

    cleared = requests.delete(control_emulator.url + REPLIES, timeout=10)

    assert (cleared.status_code, cleared.content) == (204, b"")
    assert control_emulator.replies_pending == 0
    assert _state(control_emulator)["replies_pending"] == 0
    assert _replies(control_emulator, 1) == [REPLY]


def test_the_reply_control_leaves_faults_alone_and_vice_versa(control_emulator: Emulator) -> None:
    requests.post(control_emulator.url + REPLIES, json={"replies": ["x"]}, timeout=10)
    requests.post(control_emulator.url + "/__emulator__/faults", json={"fault": "SLOW"},
                  timeout=10)

    requests.delete(control_emulator.url + "/__emulator__/faults", timeout=10)
    assert _state(control_emulator)["replies_pending"] == 1
    requests.post(control_emulator.url + "/__emulator__/faults", json={"fault": "SLOW"},
                  timeout=10)
    requests.delete(control_emulator.url + REPLIES, timeout=10)
    state = _state(control_emulator)
    assert (state["replies_pending"], state["faults_pending"]) == (0, 1)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"{", "body is not valid JSON"),
        (b"", "body is not valid JSON"),
        (b'["a"]', 'body must be a JSON object with the one key "replies"'),
        (b"{}", 'body must be a JSON object with the one key "replies"'),
        (b'{"replies": ["a"], "times": 2}', 'with the one key "replies"'),
        (b'{"replies": "a"}', '"replies" must be a list of strings, got string'),
        (b'{"replies": {"a": 1}}', '"replies" must be a list of strings, got object'),
        (b'{"replies": ["a", 1]}', '"replies"[1] must be a string, got number'),
        (b'{"replies": ["a", null]}', '"replies"[1] must be a string, got null'),
        (b'{"replies": ["a", ["b"]]}', '"replies"[1] must be a string, got array'),
        (b'{"replies": ["\\ud800"]}', '"replies"[0] holds a lone surrogate'),
    ],
)
def test_control_refuses_a_bad_body_and_queues_nothing(
    control_emulator: Emulator, payload: bytes, message: str
) -> None:
    refused = requests.post(
        control_emulator.url + REPLIES, data=payload,
        headers={"Content-Type": "application/json"}, timeout=10,
    )

    assert refused.status_code == 400
    assert refused.headers["Content-Type"] == "application/json"
    assert message in refused.json()["error"]
    assert control_emulator.replies_pending == 0


def test_without_control_the_replies_endpoint_does_not_exist(emulator: Emulator) -> None:
    posted = requests.post(emulator.url + REPLIES, json={"replies": ["x"]}, timeout=10)
    deleted = requests.delete(emulator.url + REPLIES, timeout=10)

    assert (posted.status_code, deleted.status_code) == (404, 404)
    assert emulator.replies_pending == 0


def test_the_replies_endpoint_allows_post_and_delete_only(control_emulator: Emulator) -> None:
    response = requests.get(control_emulator.url + REPLIES, timeout=10)

    assert response.status_code == 405
    assert response.headers["Allow"] == "POST, DELETE"


def test_a_scripted_reply_reaches_a_raw_post(emulator: Emulator) -> None:
    """Without a client library: the body is exactly ``{"response": <queued text>}``."""
    emulator.queue_replies("ünïcode ✓")
    token = requests.get(emulator.url, timeout=10).cookies["csrftoken"]

    response = requests.post(emulator.url + GENERATE, headers=csrf_headers(token),
                             json={"messages": HELLO}, timeout=10)

    assert response.content == '{"response": "ünïcode ✓"}'.encode()
