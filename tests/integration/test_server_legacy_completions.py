"""Legacy ``POST /v1/completions`` met by the official ``openai`` SDK's
``client.completions.create``, plain and streamed: the prompt goes to the site as one user
message, the answer is OpenAI's ``text_completion``, what would change its shape is refused
by name, and the route sits behind the same gate (keys, body cap, metrics) as the chat
route. The server runs in this process on a real uvicorn, over voigpt's real aiohttp path
to the bundled emulator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from tests.support.messages import EMULATOR_REPLY, HELLO
from tests.support.server import Served, error_of, metric, served
from voigpt.async_client import AsyncClient
from voigpt.emulator import Emulator, Fault
from voigpt.entrypoints.server.settings import ServerSettings

MODEL = "gpt-3.5-turbo"
KEY = "sk-legacy-key"
CAP = 4096


@pytest.fixture(scope="module")
def server(site: Emulator) -> Iterator[Served]:
    client = AsyncClient(base_url=site.url, retries=0, timeout=5, environ={})
    with served(client, ServerSettings(api_keys=(KEY,), max_body_bytes=CAP)) as running:
        yield running


@pytest.fixture
def sdk(server: Served) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=server.v1, api_key=KEY, max_retries=0) as client:
        yield client


def test_the_sdk_gets_a_text_completion_of_the_prompt(
    sdk: openai.OpenAI, emulator: Emulator
) -> None:
    completion = sdk.completions.create(model=MODEL, prompt="Hello", max_tokens=7,
                                        temperature=0.2, stop=["\n"], best_of=1, seed=1)
    assert completion.object == "text_completion"
    assert completion.id.startswith("cmpl-")
    assert completion.model == MODEL
    assert len(completion.choices) == 1
    choice = completion.choices[0]
    assert (choice.text, choice.index, choice.finish_reason) == (EMULATOR_REPLY, 0, "stop")
    assert choice.logprobs is None
    usage = completion.usage
    assert usage is not None and usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert emulator.requests[-1].json() == {"messages": HELLO}


def test_a_list_of_one_prompt_is_that_prompt(sdk: openai.OpenAI, emulator: Emulator) -> None:
    completion = sdk.completions.create(model=MODEL, prompt=["Hello"])
    assert completion.choices[0].text == EMULATOR_REPLY
    assert emulator.requests[-1].json() == {"messages": HELLO}


def test_the_sdk_streams_the_text_then_the_finish_reason(sdk: openai.OpenAI) -> None:
    chunks = list(sdk.completions.create(model=MODEL, prompt="Hello", stream=True))
    assert [chunk.object for chunk in chunks] == ["text_completion"] * 2
    assert len({chunk.id for chunk in chunks}) == 1 and chunks[0].id.startswith("cmpl-")
    assert {chunk.model for chunk in chunks} == {MODEL}
    text, last = (chunk.choices[0] for chunk in chunks)
    assert (text.text, text.finish_reason) == (EMULATOR_REPLY, None)
    assert (last.text, last.finish_reason) == ("", "stop")
    assert all(chunk.usage is None for chunk in chunks)


def test_the_stream_ends_with_a_usage_chunk_when_asked_for(sdk: openai.OpenAI) -> None:
    whole = sdk.completions.create(model=MODEL, prompt="Hello")
    chunks = list(sdk.completions.create(model=MODEL, prompt="Hello", stream=True,
                                         stream_options={"include_usage": True}))
    assert len(chunks) == 3
    assert chunks[-1].choices == [] and chunks[-1].usage == whole.usage
    assert "".join(chunk.choices[0].text for chunk in chunks[:2]) == EMULATOR_REPLY


def test_the_raw_stream_is_server_sent_events_ending_with_done(server: Served) -> None:
    response = httpx.post(server.v1 + "/completions", timeout=10, headers=_auth(),
                          json={"prompt": "Hello", "stream": True})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    events = response.text.split("\n\n")
    assert events[-2:] == ["data: [DONE]", ""]
    assert all(event.startswith("data: {") for event in events[:-2])


@pytest.mark.parametrize(
    ("options", "param"),
    [
        ({"n": 2}, "n"),
        ({"echo": True}, "echo"),
        ({"logprobs": 0}, "logprobs"),
        ({"logprobs": 5}, "logprobs"),
        ({"suffix": "}"}, "suffix"),
        # The chat routes emulate these; this route never had them.
        ({"tools": [{"type": "function", "function": {"name": "f"}}]}, "tools"),
        ({"tool_choice": "auto"}, "tool_choice"),
        ({"response_format": {"type": "json_object"}}, "response_format"),
    ],
)
def test_what_changes_the_answers_shape_is_refused_by_name(
    sdk: openai.OpenAI, emulator: Emulator, options: dict[str, Any], param: str
) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        sdk.completions.create(model=MODEL, prompt="Hello", extra_body=options)
    error = info.value.body
    assert isinstance(error, dict)
    assert (error["param"], error["code"]) == (param, "unsupported_parameter")
    assert param in error["message"]
    assert not emulator.requests  # nothing went upstream


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({}, "prompt", "missing_required_parameter"),
        ({"prompt": ["one", "two"]}, "prompt", "invalid_value"),
        ({"prompt": []}, "prompt", "invalid_value"),
        ({"prompt": [1, 2, 3]}, "prompt", "invalid_value"),
        ({"prompt": "Hello", "model": 3}, "model", "invalid_value"),
    ],
)
def test_a_bad_prompt_is_a_400_naming_it(
    server: Served, body: dict[str, Any], param: str, code: str
) -> None:
    response = httpx.post(server.v1 + "/completions", json=body, headers=_auth(), timeout=10)
    error = error_of(response, 400)
    assert (error["param"], error["code"]) == (param, code)
    assert "Value error" not in str(error["message"])


def test_the_route_needs_the_key_and_counts_its_refusals(server: Served) -> None:
    before = metric(server.url, "voigpt_server_requests_total", route="/v1/completions",
                    status="401")
    for headers in ({}, {"Authorization": "Bearer sk-wrong"}):
        response = httpx.post(server.v1 + "/completions", json={"prompt": "Hello"},
                              headers=headers, timeout=10)
        assert error_of(response, 401)["code"] == "invalid_api_key"
    after = metric(server.url, "voigpt_server_requests_total", route="/v1/completions",
                   status="401")
    assert after - before == 2


def test_a_body_over_the_cap_is_a_413(server: Served, emulator: Emulator) -> None:
    response = httpx.post(server.v1 + "/completions", json={"prompt": "x" * CAP},
                          headers=_auth(), timeout=10)
    assert error_of(response, 413)["code"] == "request_too_large"
    assert not emulator.requests


def test_the_sites_failure_is_the_same_answer_as_on_the_chat_route(
    sdk: openai.OpenAI, emulator: Emulator
) -> None:
    emulator.inject(Fault.RATE_LIMITED, endpoint="generate", retry_after="3")
    with pytest.raises(openai.RateLimitError) as info:
        sdk.completions.create(model=MODEL, prompt="Hello")
    assert info.value.response.headers["retry-after"] == "3"


def test_other_methods_get_a_405(server: Served) -> None:
    response = httpx.get(server.v1 + "/completions", headers=_auth(), timeout=10)
    assert error_of(response, 405)["code"] == "method_not_allowed"


def _auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {KEY}"}
