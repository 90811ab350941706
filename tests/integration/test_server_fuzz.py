"""Property: whatever a client posts to ``/v1/chat/completions`` (any JSON value, any mix of
known and unknown parameters, any list of would-be messages, any bytes), the running server
never answers 5xx. A success is a ``chat.completion`` (or its event stream); anything else
is a 4xx in OpenAI's error shape. Valid conversations really go through to the emulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.support.server import Served, error_of, served
from voigpt.async_client import AsyncClient
from voigpt.emulator import Emulator

FUZZ = settings(max_examples=120, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Every character, lone surrogates included (JSON can carry them as \ud800 escapes).
TEXT = st.text(st.characters(exclude_categories=()), max_size=12)
SCALARS = (st.none() | st.booleans() | st.integers(-(2**70), 2**70)
           | st.floats(allow_nan=True, allow_infinity=True) | TEXT)
JSON = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=12,
)
PARAMETERS = [
    "model", "stream", "stream_options", "n", "response_format", "logprobs", "top_logprobs",
    "tools", "functions", "tool_choice", "temperature", "top_p", "max_tokens",
    "max_completion_tokens", "stop", "presence_penalty", "frequency_penalty", "logit_bias",
    "seed", "user", "parallel_tool_calls", "store", "metadata", "reasoning_effort",
    "service_tier",
]
ROLES = st.sampled_from(["system", "user", "assistant", "developer", "tool", "function",
                         "bot", "", "USER"]) | JSON
PART = st.fixed_dictionaries(
    {"type": st.sampled_from(["text", "image_url", "input_audio", "refusal"]) | JSON},
    optional={"text": TEXT | JSON, "image_url": JSON},
)
CONTENT = TEXT | st.lists(PART, max_size=3) | JSON
MESSAGE = st.fixed_dictionaries(
    {}, optional={"role": ROLES, "content": CONTENT, "name": TEXT | JSON,
                  "tool_calls": JSON, "extra": JSON},
)
VALID_MESSAGE = st.fixed_dictionaries({
    "role": st.sampled_from(["system", "user", "assistant", "developer"]),
    "content": TEXT | st.lists(st.fixed_dictionaries({"type": st.just("text"), "text": TEXT}),
                               min_size=1, max_size=3),
})



@pytest.fixture(scope="module")
def server(site: Emulator) -> Iterator[Served]:
    with served(AsyncClient(base_url=site.url, retries=0, timeout=10, environ={})) as running:
        yield running


@pytest.fixture(scope="module")
def http(server: Served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.v1, timeout=15) as client:
        yield client


def post(http: httpx.Client, content: bytes) -> httpx.Response:
    return http.post("/chat/completions", content=content,
                     headers={"content-type": "application/json"})


def check(response: httpx.Response) -> None:
    """Never a 5xx; a 200 is a completion or its stream; else a 4xx in the error shape."""
    assert response.status_code < 500, (response.status_code, response.text)
    event(f"HTTP {response.status_code}")
    if response.status_code == 200:
        if response.headers["content-type"].startswith("text/event-stream"):
            assert response.text.endswith("data: [DONE]\n\n")
        else:
            assert response.json()["object"] == "chat.completion"
    else:
        error_of(response, response.status_code)
        assert response.status_code in (400, 404), response.text


def encode(body: object) -> bytes:
    return json.dumps(body).encode()  # NaN and Infinity as Python writes them


@FUZZ
@given(body=JSON)
def test_any_json_value_as_the_body_is_never_a_5xx(http: httpx.Client, body: object) -> None:
    check(post(http, encode(body)))


@FUZZ
@given(messages=st.lists(VALID_MESSAGE, min_size=1, max_size=3) | st.lists(MESSAGE, max_size=4)
       | JSON,
       extra=st.dictionaries(st.sampled_from(PARAMETERS) | TEXT, JSON, max_size=4))
def test_any_messages_and_parameters_are_never_a_5xx(
    http: httpx.Client, messages: object, extra: dict[str, Any]
) -> None:
    check(post(http, encode({**extra, "messages": messages})))


@FUZZ
@given(messages=st.lists(VALID_MESSAGE, min_size=1, max_size=4),
       stream=st.booleans(), include_usage=st.booleans())
def test_a_valid_conversation_is_answered_with_the_sites_reply(
    http: httpx.Client, site: Emulator, messages: list[dict[str, Any]], stream: bool,
    include_usage: bool,
) -> None:
    before = site.completions
    body: dict[str, Any] = {"messages": messages, "stream": stream}
    if include_usage:
        body["stream_options"] = {"include_usage": True}
    response = post(http, encode(body))
    check(response)
    if response.status_code == 200:
        assert site.completions == before + 1
    else:  # only text the site cannot take (a lone surrogate) is refused
        error = error_of(response, 400)
        assert "surrogate" in str(error["message"]) or "UTF-8" in str(error["message"])
        assert site.completions == before


@FUZZ
@given(content=st.binary(max_size=64))
def test_any_bytes_as_the_body_are_never_a_5xx(http: httpx.Client, content: bytes) -> None:
    check(post(http, content))
