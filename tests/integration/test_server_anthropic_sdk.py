"""``voigpt serve``'s ``/v1/messages`` met by the official ``anthropic`` SDK: the ``Message``
it parses, its stream helper, ``count_tokens``, both ways of sending a key, and the error
class it raises for each refusal and each upstream failure, each with Anthropic's error
body. The server runs in this process on a real uvicorn, over voigpt's real aiohttp path to
the bundled emulator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import pytest

from tests.support.messages import EMULATOR_REPLY, HELLO
from tests.support.server import Served, served
from voigpt.async_client import AsyncClient
from voigpt.emulator import Emulator, Fault

MODEL = "gpt-3.5-turbo"
KEY = "sk-anthropic-0123456789"
EVENTS = ["message_start", "content_block_start", "ping", "content_block_delta",
          "content_block_stop", "message_delta", "message_stop"]


@pytest.fixture(scope="module")
def server(site: Emulator) -> Iterator[Served]:
    """Keys set, a small body cap; voigpt's own retries off, so that what the emulator sees
    is the SDK's doing."""
    client = AsyncClient(base_url=site.url, retries=0, timeout=2, environ={})
    with served(client, api_keys=(KEY,), max_body_bytes=4096) as running:
        yield running


@pytest.fixture
def sdk(server: Served) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=server.url, api_key=KEY, max_retries=0) as client:
        yield client


def error_body(info: pytest.ExceptionInfo[anthropic.APIStatusError], kind: str) -> str:
    """The message of Anthropic's error body, checked to be exactly its shape with ``kind``."""
    body = info.value.response.json()
    assert list(body) == ["type", "error"] and body["type"] == "error", body
    assert sorted(body["error"]) == ["message", "type"], body
    assert body["error"]["type"] == kind, body
    assert info.value.response.headers["content-type"].startswith("application/json")
    message: str = body["error"]["message"]
    assert message
    return message


# --- messages ----------------------------------------------------------------------------


def test_the_sdk_gets_a_message_with_the_sites_reply(
    sdk: anthropic.Anthropic, emulator: Emulator
) -> None:
    message = sdk.messages.create(model=MODEL, max_tokens=64, messages=HELLO)  # type: ignore[arg-type]
    assert message.id.startswith("msg_")
    assert (message.type, message.role, message.model) == ("message", "assistant", MODEL)
    assert [block.type for block in message.content] == ["text"]
    assert message.content[0].text == EMULATOR_REPLY  # type: ignore[union-attr]
    assert (message.stop_reason, message.stop_sequence) == ("end_turn", None)
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0
    assert emulator.requests[-1].json() == {"messages": HELLO}


def test_the_system_prompt_and_text_blocks_are_sent_as_the_domain_joins_them(
    sdk: anthropic.Anthropic, emulator: Emulator
) -> None:
    message = sdk.messages.create(
        model=MODEL, max_tokens=64,
        system=[{"type": "text", "text": "Be "}, {"type": "text", "text": "brief.",
                                                  "cache_control": {"type": "ephemeral"}}],
        messages=[
            {"role": "user", "content": [{"type": "text", "text": "Hi, "},
                                         {"type": "text", "text": "there"}]},
            {"role": "assistant", "content": "Hello!"},
            {"role": "user", "content": "Hello"},
        ],
    )
    assert message.content[0].text == EMULATOR_REPLY  # type: ignore[union-attr]
    assert emulator.requests[-1].json() == {"messages": [
        {"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi, there"},
        {"role": "assistant", "content": "Hello!"}, {"role": "user", "content": "Hello"},
    ]}


def test_sampling_parameters_are_accepted_and_not_sent_upstream(
    sdk: anthropic.Anthropic, emulator: Emulator
) -> None:
    message = sdk.messages.create(
        model=MODEL, max_tokens=7, messages=HELLO, system="Be brief.",  # type: ignore[arg-type]
        stop_sequences=["\n"], metadata={"user_id": "user-1"}, tool_choice={"type": "auto"},
        service_tier="auto", thinking={"type": "disabled"},
        # Anthropic's API takes these; this SDK version has no arguments for them
        extra_body={"temperature": 0.2, "top_k": 5, "top_p": 0.9},
    )
    assert message.content[0].text == EMULATOR_REPLY  # type: ignore[union-attr]
    assert emulator.requests[-1].json() == {
        "messages": [{"role": "system", "content": "Be brief."}, *HELLO]}


def test_the_sdk_streams_text_deltas_that_join_into_the_final_message(
    sdk: anthropic.Anthropic,
) -> None:
    whole = sdk.messages.create(model=MODEL, max_tokens=64, messages=HELLO)  # type: ignore[arg-type]
    with sdk.messages.stream(model=MODEL, max_tokens=64, messages=HELLO) as stream:  # type: ignore[arg-type]
        deltas = list(stream.text_stream)
        final = stream.get_final_message()
    assert "".join(deltas) == EMULATOR_REPLY
    assert final.content[0].text == EMULATOR_REPLY  # type: ignore[union-attr]
    assert final.id.startswith("msg_") and final.model == MODEL
    assert (final.stop_reason, final.stop_sequence) == ("end_turn", None)
    assert final.usage.input_tokens == whole.usage.input_tokens
    assert final.usage.output_tokens == whole.usage.output_tokens


def test_a_raw_stream_is_anthropics_event_sequence(sdk: anthropic.Anthropic) -> None:
    with sdk.messages.create(model=MODEL, max_tokens=64, messages=HELLO, stream=True) as events:  # type: ignore[arg-type]
        kinds = [event.type for event in events]
    assert kinds == [kind for kind in EVENTS if kind != "ping"]  # the SDK drops the ping
    with sdk.messages.with_streaming_response.create(
        model=MODEL, max_tokens=64, messages=HELLO, stream=True,  # type: ignore[arg-type]
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line.startswith("event: ")]
    assert [line.removeprefix("event: ") for line in lines] == EVENTS


def test_count_tokens_is_the_estimate_a_message_reports(sdk: anthropic.Anthropic) -> None:
    arguments: dict[str, Any] = {"model": MODEL, "system": "Be brief.", "messages": HELLO}
    counted = sdk.messages.count_tokens(**arguments)
    message = sdk.messages.create(max_tokens=64, **arguments)
    assert counted.input_tokens == message.usage.input_tokens > 0


# --- keys --------------------------------------------------------------------------------


def test_the_key_is_accepted_as_x_api_key_and_as_bearer(server: Served) -> None:
    with anthropic.Anthropic(base_url=server.url, api_key=None, max_retries=0,
                             default_headers={"x-api-key": KEY}) as by_header:
        message = by_header.messages.create(model=MODEL, max_tokens=8, messages=HELLO)  # type: ignore[arg-type]
    assert message.content[0].text == EMULATOR_REPLY  # type: ignore[union-attr]
    with anthropic.Anthropic(base_url=server.url, api_key=None, auth_token=KEY,
                             max_retries=0) as by_bearer:
        assert by_bearer.messages.count_tokens(model=MODEL, messages=HELLO).input_tokens > 0  # type: ignore[arg-type]


@pytest.mark.parametrize("how", ["x-api-key", "bearer", "none"])
def test_a_wrong_or_missing_key_raises_authentication_error(
    server: Served, emulator: Emulator, how: str
) -> None:
    options: dict[str, Any] = {
        "x-api-key": {"api_key": None, "default_headers": {"x-api-key": "sk-wrong"}},
        "bearer": {"api_key": None, "auth_token": "sk-wrong"},
        "none": {"api_key": None, "default_headers": {"Authorization": anthropic.Omit()}},
    }[how]
    with anthropic.Anthropic(base_url=server.url, max_retries=0, **options) as sdk, \
            pytest.raises(anthropic.AuthenticationError) as info:
        sdk.messages.create(model=MODEL, max_tokens=8, messages=HELLO)  # type: ignore[arg-type]
    assert info.value.status_code == 401
    assert "x-api-key" in error_body(info, "authentication_error")
    assert emulator.requests == []


# --- refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"tools": [{"type": "web_search_20250305", "name": "web_search"}]},
         "tools[0]: the server tool 'web_search_20250305' is not supported"),
        ({"messages": [{"role": "user", "content": [
            {"type": "text", "text": "What is this?"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                         "data": "iVBORw0KGgo="}}]}]},
         "messages[0].content[1]: a part with type 'image'"),
        ({"max_tokens": None}, "max_tokens is required"),
        ({"messages": [{"role": "system", "content": "x"}]}, "'system' parameter"),
        ({"tool_choice": {"type": "any"}}, "tool_choice {'type': 'any'} needs tools"),
    ],
    ids=["server-tool", "image", "no-max-tokens", "system-role", "tool-choice"],
)
def test_what_the_site_cannot_do_is_refused_by_name_with_anthropics_body(
    sdk: anthropic.Anthropic, emulator: Emulator, extra: dict[str, Any], named: str
) -> None:
    body = {"model": MODEL, "max_tokens": 8, "messages": HELLO, **extra}
    body = {key: value for key, value in body.items() if value is not None}
    with pytest.raises(anthropic.BadRequestError) as info:
        sdk.post("/v1/messages", body=body, cast_to=httpx.Response)
    assert info.value.status_code == 400
    assert named in error_body(info, "invalid_request_error")
    assert emulator.requests == []  # refused before anything went upstream


def test_an_unknown_model_is_not_found_naming_the_flag_that_accepts_it(
    sdk: anthropic.Anthropic, emulator: Emulator
) -> None:
    with pytest.raises(anthropic.NotFoundError) as info:
        sdk.messages.create(model="claude-sonnet-4-5", max_tokens=8, messages=HELLO)  # type: ignore[arg-type]
    message = error_body(info, "not_found_error")
    assert "claude-sonnet-4-5" in message and "--model-alias" in message
    assert emulator.requests == []


def test_a_model_alias_is_served_by_the_sites_model(site: Emulator) -> None:
    client = AsyncClient(base_url=site.url, retries=0, timeout=5, environ={})
    with served(client, model_aliases=("claude-*",)) as server, anthropic.Anthropic(
        base_url=server.url, api_key="unused", max_retries=0
    ) as sdk:
        message = sdk.messages.create(model="claude-sonnet-4-5", max_tokens=8, messages=HELLO)  # type: ignore[arg-type]
    assert message.model == MODEL
    assert message.content[0].text == EMULATOR_REPLY  # type: ignore[union-attr]


def test_a_body_over_the_cap_is_request_too_large(sdk: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.APIStatusError) as info:
        sdk.messages.create(model=MODEL, max_tokens=8,
                            messages=[{"role": "user", "content": "x" * 5000}])
    assert info.value.status_code == 413
    error_body(info, "request_too_large")


# --- upstream failures -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "params", "error", "status", "kind"),
    [
        (Fault.RATE_LIMITED, {"retry_after": "3"}, anthropic.RateLimitError, 429,
         "rate_limit_error"),
        (Fault.SERVER_ERROR, {"status": 503}, anthropic.InternalServerError, 503,
         "overloaded_error"),
        (Fault.HTML_INSTEAD_OF_JSON, {}, anthropic.InternalServerError, 502, "api_error"),
        (Fault.SLOW, {"delay": 4}, anthropic.InternalServerError, 504, "api_error"),
    ],
    ids=["429", "503", "502-malformed", "504-slow"],
)
@pytest.mark.parametrize("stream", [False, True], ids=["create", "stream"])
def test_each_upstream_failure_is_anthropics_error_with_its_status(
    sdk: anthropic.Anthropic, emulator: Emulator, fault: Fault, params: dict[str, Any],
    error: type[anthropic.APIStatusError], status: int, kind: str, stream: bool,
) -> None:
    emulator.inject(fault, **params)
    with pytest.raises(error) as info:
        if stream:
            with sdk.messages.stream(model=MODEL, max_tokens=8, messages=HELLO) as events:  # type: ignore[arg-type]
                list(events)
        else:
            sdk.messages.create(model=MODEL, max_tokens=8, messages=HELLO)  # type: ignore[arg-type]
    assert info.value.status_code == status
    error_body(info, kind)
    if status == 429:
        assert info.value.response.headers["retry-after"] == "3"
