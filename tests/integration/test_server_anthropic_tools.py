"""Tools on ``voigpt serve``'s ``/v1/messages``, met by the official ``anthropic`` SDK: custom
tools called as ``tool_use`` blocks (plain and through the SDK's stream helper), the loop
(earlier ``tool_use`` and ``tool_result`` blocks written out for the site as every dialect
writes them), each ``tool_choice``, the one repair and the 502 after it, structured output,
and the 400s that name what is refused before anything goes upstream. The server runs on a
real uvicorn in this process; the site is the real emulator, its replies scripted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import pydantic
import pytest

from tests.integration.test_server_schema_fuzz import CONFORMANCE, schema
from tests.support.messages import HELLO
from tests.support.server import Served, served
from voigpt.async_client import AsyncClient
from voigpt.domain.tools.history import calls_text, result_text
from voigpt.emulator import Emulator

MODEL = "gpt-3.5-turbo"
KEY = "sk-anthropic-tools-0123456789"
WEATHER = {"name": "get_weather", "description": "The weather in a city.",
           "input_schema": {"type": "object", "properties": {"city": {"type": "string"}},
                            "required": ["city"]}}
TIME = {"name": "get_time", "description": "The time in a city.",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}
PARIS_CALL = '{"tool_calls":[{"name":"get_weather","arguments":{"city":"Paris"}}]}'
ASK = [{"role": "user", "content": "Weather in Paris?"}]


@pytest.fixture(scope="module")
def server(site: Emulator) -> Iterator[Served]:
    client = AsyncClient(base_url=site.url, retries=0, timeout=5, environ={})
    with served(client, api_keys=(KEY,)) as running:
        yield running


@pytest.fixture
def sdk(server: Served) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=server.url, api_key=KEY, max_retries=0) as client:
        yield client


def create(sdk: anthropic.Anthropic, **params: Any) -> anthropic.types.Message:
    arguments: dict[str, Any] = {"model": MODEL, "max_tokens": 64, "messages": ASK,
                                 "tools": [WEATHER], **params}
    message: anthropic.types.Message = sdk.messages.create(**arguments)
    return message


def posts(emulator: Emulator) -> list[Any]:
    """The completions the site received (not the page read for its token)."""
    return [request for request in emulator.requests if request.method == "POST"]


def sent(emulator: Emulator, index: int = -1) -> list[dict[str, str]]:
    body = posts(emulator)[index].json()
    assert isinstance(body, dict)
    messages: list[dict[str, str]] = body["messages"]
    return messages


# --- calls ---------------------------------------------------------------------------------


@pytest.mark.parametrize("reply", [
    PARIS_CALL,
    f"Sure.\n```json\n{PARIS_CALL}\n```",
    'I will call it: {"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"}',
], ids=["bare", "fenced", "one-call-in-prose"])
def test_a_tool_call_is_a_tool_use_block(
    sdk: anthropic.Anthropic, emulator: Emulator, reply: str
) -> None:
    emulator.queue_replies(reply)
    message = create(sdk)
    assert message.stop_reason == "tool_use"
    assert [block.type for block in message.content] == ["tool_use"]
    block = message.content[0]
    assert isinstance(block, anthropic.types.ToolUseBlock)
    assert (block.name, block.input) == ("get_weather", {"city": "Paris"})
    assert block.id.startswith("toolu_") and len(block.id) > len("toolu_")
    assert message.usage.output_tokens > 0
    # the site was told of the tool, after the caller's messages
    messages = sent(emulator)
    assert messages[0] == ASK[0]
    assert messages[-1]["role"] == "system" and "get_weather" in messages[-1]["content"]
    assert len(posts(emulator)) == 1


def test_parallel_calls_are_blocks_in_order_with_distinct_ids(
    sdk: anthropic.Anthropic, emulator: Emulator
) -> None:
    emulator.queue_replies(json.dumps({"tool_calls": [
        {"name": "get_weather", "arguments": {"city": "Paris"}},
        {"name": "get_time", "arguments": {"city": "Oslo"}}]}))
    message = create(sdk, tools=[WEATHER, TIME])
    blocks = [block for block in message.content if isinstance(block, anthropic.types.ToolUseBlock)]
    assert [(b.name, b.input) for b in blocks] == [("get_weather", {"city": "Paris"}),
                                                   ("get_time", {"city": "Oslo"})]
    assert len({b.id for b in blocks}) == 2


def test_the_stream_helper_builds_the_tool_use_blocks_from_input_json_deltas(
    sdk: anthropic.Anthropic, emulator: Emulator
) -> None:
    emulator.queue_replies(json.dumps({"tool_calls": [
        {"name": "get_weather", "arguments": {"city": "Paris"}},
        {"name": "get_time", "arguments": {"city": "Oslo"}}]}))
    with sdk.messages.stream(model=MODEL, max_tokens=64, messages=ASK,  # type: ignore[arg-type]
                             tools=[WEATHER, TIME]) as stream:  # type: ignore[list-item]
        events = list(stream)
        final = stream.get_final_message()
    kinds = [event.type for event in events if event.type not in ("input_json", "text")]
    assert kinds == ["message_start",
                     "content_block_start", "content_block_delta", "content_block_stop",
                     "content_block_start", "content_block_delta", "content_block_stop",
                     "message_delta", "message_stop"]
    deltas = [event.delta for event in events if event.type == "content_block_delta"]
    assert [delta.type for delta in deltas] == ["input_json_delta"] * 2
    assert json.loads(deltas[0].partial_json) == {"city": "Paris"}  # type: ignore[union-attr]
    assert final.stop_reason == "tool_use"
    assert [(b.type, b.name, b.input) for b in final.content  # type: ignore[union-attr]
            ] == [("tool_use", "get_weather", {"city": "Paris"}),
                  ("tool_use", "get_time", {"city": "Oslo"})]
    assert final.content[0].id.startswith("toolu_")  # type: ignore[union-attr]


def test_the_raw_stream_is_anthropics_event_grammar(
    server: Served, emulator: Emulator
) -> None:
    emulator.queue_replies(PARIS_CALL)
    body = {"model": MODEL, "max_tokens": 8, "messages": ASK, "tools": [WEATHER],
            "stream": True}
    response = httpx.post(server.v1 + "/messages", json=body, headers={"x-api-key": KEY},
                          timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    frames = [frame.split("\n") for frame in response.text.strip().split("\n\n")]
    names = [frame[0].removeprefix("event: ") for frame in frames]
    data = [json.loads(frame[1].removeprefix("data: ")) for frame in frames]
    assert names == [item["type"] for item in data] == [
        "message_start", "ping", "content_block_start", "content_block_delta",
        "content_block_stop", "message_delta", "message_stop"]
    assert data[0]["message"]["content"] == [] and data[0]["message"]["stop_reason"] is None
    block = data[2]["content_block"]
    assert (block["type"], block["name"], block["input"]) == ("tool_use", "get_weather", {})
    assert block["id"].startswith("toolu_")
    assert data[3]["delta"] == {"type": "input_json_delta",
                                "partial_json": '{"city":"Paris"}'}
    assert data[5]["delta"] == {"stop_reason": "tool_use", "stop_sequence": None}
    assert data[5]["usage"]["output_tokens"] > 0


def test_a_text_answer_with_tools_offered_is_a_text_block(
    sdk: anthropic.Anthropic, emulator: Emulator
) -> None:
    emulator.queue_replies("It is sunny in Paris.")
    message = create(sdk)
    assert message.stop_reason == "end_turn"
    assert [(b.type, b.text) for b in message.content] == [  # type: ignore[union-attr]
        ("text", "It is sunny in Paris.")]


# --- the loop ------------------------------------------------------------------------------


def test_earlier_tool_use_and_results_reach_the_site_as_the_history_writes_them(
    sdk: anthropic.Anthropic, emulator: Emulator
) -> None:
    emulator.queue_replies("Sunny in Paris, and it is noon in Oslo.")
    history = [
        *ASK,
        {"role": "assistant", "content": [
            {"type": "text", "text": "Let me look."},
            {"type": "tool_use", "id": "toolu_1", "name": "get_weather",
             "input": {"city": "Paris"}},
            {"type": "tool_use", "id": "toolu_2", "name": "get_time",
             "input": {"city": "Oslo"}}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny, 21 C"},
            {"type": "tool_result", "tool_use_id": "toolu_2", "is_error": True,
             "content": [{"type": "text", "text": "clock "}, {"type": "text", "text": "down"}]},
            {"type": "text", "text": "Thanks!"}]},
    ]
    message = create(sdk, messages=history, tools=[WEATHER, TIME])
    assert message.content[0].text == "Sunny in Paris, and it is noon in Oslo."  # type: ignore[union-attr]
    calls = calls_text([("toolu_1", "get_weather", {"city": "Paris"}),
                        ("toolu_2", "get_time", {"city": "Oslo"})])
    assert sent(emulator)[:5] == [
        ASK[0],
        {"role": "assistant", "content": f"Let me look.\n{calls}"},
        {"role": "user", "content": result_text("toolu_1", "sunny, 21 C", name="get_weather")},
        {"role": "user", "content": result_text("toolu_2", "clock down", name="get_time",
                                                is_error=True)},
        {"role": "user", "content": "Thanks!"},
    ]
    assert sent(emulator)[5]["role"] == "system"  # the tools' instructions, last


def test_a_tool_result_with_no_tools_offered_takes_the_plain_path(
    sdk: anthropic.Anthropic, emulator: Emulator
) -> None:
    history = [*ASK, {"role": "assistant", "content": [
        {"type": "tool_use", "id": "toolu_9", "name": "get_weather", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_9"}]}]
    sdk.messages.create(model=MODEL, max_tokens=8, messages=history)  # type: ignore[arg-type]
    assert sent(emulator) == [
        ASK[0], {"role": "assistant", "content": calls_text([("toolu_9", "get_weather", {})])},
        {"role": "user", "content": result_text("toolu_9", "", name="get_weather")}]


# --- tool_choice ---------------------------------------------------------------------------


def test_tool_choice_any_repairs_a_text_reply_into_a_call(
    sdk: anthropic.Anthropic, emulator: Emulator
) -> None:
    emulator.queue_replies("It is probably sunny.", PARIS_CALL)
    message = create(sdk, tool_choice={"type": "any"})
    assert message.stop_reason == "tool_use"
    assert message.content[0].input == {"city": "Paris"}  # type: ignore[union-attr]
    assert len(posts(emulator)) == 2
    repaired = sent(emulator)
    assert repaired[-2] == {"role": "assistant", "content": "It is probably sunny."}
    assert repaired[-1]["role"] == "user"


def test_tool_choice_tool_requires_the_named_tool(
    sdk: anthropic.Anthropic, emulator: Emulator
) -> None:
    emulator.queue_replies('{"name": "get_time", "arguments": {"city": "Oslo"}}')
    message = create(sdk, tools=[WEATHER, TIME],
                     tool_choice={"type": "tool", "name": "get_time",
                                  "disable_parallel_tool_use": True})
    assert [(b.name, b.input) for b in message.content] == [  # type: ignore[union-attr]
        ("get_time", {"city": "Oslo"})]
    instructions = sent(emulator)[-1]["content"]
    assert "get_time" in instructions and "one tool at a time" in instructions


def test_tool_choice_none_sends_the_messages_alone(
    sdk: anthropic.Anthropic, emulator: Emulator
) -> None:
    message = create(sdk, messages=HELLO, tool_choice={"type": "none"})
    assert message.stop_reason == "end_turn"
    assert posts(emulator)[-1].json() == {"messages": HELLO}


# --- repair and its failure ----------------------------------------------------------------


def test_a_call_that_does_not_fit_its_schema_twice_is_a_502_in_anthropics_shape(
    sdk: anthropic.Anthropic, emulator: Emulator
) -> None:
    wrong = '{"tool_calls":[{"name":"get_weather","arguments":{"town":"Paris"}}]}'
    emulator.queue_replies(wrong, wrong)
    with pytest.raises(anthropic.InternalServerError) as info:
        create(sdk, tool_choice={"type": "any"})
    assert info.value.status_code == 502
    body = info.value.response.json()
    assert list(body) == ["type", "error"] and body["type"] == "error"
    assert body["error"]["type"] == "api_error" and "correction" in body["error"]["message"]
    assert len(posts(emulator)) == 2
    assert KEY not in body["error"]["message"]


def test_a_call_that_fits_after_one_correction_is_the_answer(
    sdk: anthropic.Anthropic, emulator: Emulator
) -> None:
    emulator.queue_replies('{"tool_calls":[{"name":"get_weather","arguments":{}}]}',
                           PARIS_CALL)
    message = create(sdk)
    assert message.content[0].input == {"city": "Paris"}  # type: ignore[union-attr]
    assert len(posts(emulator)) == 2


# --- structured output ---------------------------------------------------------------------


class Weather(pydantic.BaseModel):
    city: str
    celsius: int


def test_output_format_is_answered_as_one_json_text_block_the_sdk_parses(
    sdk: anthropic.Anthropic, emulator: Emulator
) -> None:
    emulator.queue_replies('Here: {"city": "Paris", "celsius": 21}')
    parsed = sdk.messages.parse(model=MODEL, max_tokens=64, messages=ASK,  # type: ignore[arg-type]
                                output_format=Weather)
    assert parsed.parsed_output == Weather(city="Paris", celsius=21)
    assert parsed.stop_reason == "end_turn"
    assert "celsius" in sent(emulator)[-1]["content"]  # the schema, in the instructions


# --- refusals, before any I/O --------------------------------------------------------------


@pytest.mark.parametrize(("extra", "named"), [
    ({"tools": [{**WEATHER, "input_schema": {"type": 12}}]},
     "tools[0].input_schema is not a valid JSON Schema"),
    ({"tools": [WEATHER, {"type": "web_search_20250305", "name": "web_search"}]},
     "tools[1]: the server tool 'web_search_20250305'"),
    ({"tools": [{"type": "bash_20250124", "name": "bash"}]}, "tools[0]: the server tool"),
    ({"tools": [{"name": "f"}]}, "tools[0] is missing 'input_schema'"),
    ({"tools": [WEATHER], "tool_choice": {"type": "tool", "name": "get_time"}},
     "tool_choice names 'get_time'"),
    ({"tool_choice": {"type": "any"}}, "tool_choice {'type': 'any'} needs tools"),
    ({"tool_choice": {"type": "required"}}, "tool_choice must be"),
    ({"output_config": {"format": {"type": "json_schema", "schema": {"type": "nope"}}}},
     "output_config.format.schema is not a valid JSON Schema"),
    ({"messages": [{"role": "user", "content": [
        {"type": "tool_use", "id": "t", "name": "f", "input": {}}]}]},
     "messages[0].content[0]: a tool_use block belongs in an assistant message"),
    ({"messages": [*ASK, {"role": "assistant", "content": [
        {"type": "tool_use", "id": "t", "name": "f"}]}]},
     "messages[1].content[0]: a tool_use block needs"),
    ({"messages": [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t",
        "content": [{"type": "image", "source": {}}]}]}]},
     "messages[0].content[0].content[0]: only text blocks"),
], ids=["bad-schema", "web-search", "bash", "no-schema", "unknown-named", "any-no-tools",
        "bad-choice", "bad-format", "tool-use-in-user", "tool-use-no-input",
        "image-in-result"])
@pytest.mark.parametrize("path", ["/v1/messages", "/v1/messages/count_tokens"])
def test_what_cannot_be_done_is_a_400_naming_where_before_the_site_sees_anything(
    sdk: anthropic.Anthropic, emulator: Emulator, extra: dict[str, Any], named: str,
    path: str,
) -> None:
    body = {"model": MODEL, "max_tokens": 8, "messages": ASK, **extra}
    with pytest.raises(anthropic.BadRequestError) as info:
        sdk.post(path, body=body, cast_to=httpx.Response)
    error = info.value.response.json()
    assert error["type"] == "error" and error["error"]["type"] == "invalid_request_error"
    assert named in error["error"]["message"], error
    assert emulator.requests == []


# --- count_tokens and secrets --------------------------------------------------------------


def test_count_tokens_counts_the_tools_offered(sdk: anthropic.Anthropic) -> None:
    plain = sdk.messages.count_tokens(model=MODEL, messages=ASK)  # type: ignore[arg-type]
    with_tools = sdk.messages.count_tokens(model=MODEL, messages=ASK,  # type: ignore[arg-type]
                                           tools=[WEATHER])  # type: ignore[list-item]
    declined = sdk.messages.count_tokens(model=MODEL, messages=ASK,  # type: ignore[arg-type]
                                         tools=[WEATHER],  # type: ignore[list-item]
                                         tool_choice={"type": "none"})
    assert with_tools.input_tokens > plain.input_tokens == declined.input_tokens


def test_the_key_never_reaches_the_site(sdk: anthropic.Anthropic, emulator: Emulator) -> None:
    emulator.queue_replies("not a call", PARIS_CALL)
    create(sdk, tool_choice={"type": "any"})
    assert len(posts(emulator)) == 2
    for request in emulator.requests:  # the token's page read too
        assert KEY not in request.body.decode()
        assert KEY not in json.dumps(dict(request.headers))


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_a_tool_use_answer_is_as_the_openapi_document_says(
    server: Served, emulator: Emulator, stream: bool
) -> None:
    emulator.queue_replies(PARIS_CALL)
    body: dict[str, Any] = {"model": MODEL, "max_tokens": 8, "messages": ASK,
                            "tools": [WEATHER], "tool_choice": {"type": "auto"},
                            "stream": stream}
    case = schema["/v1/messages"]["POST"].Case(body=body, media_type="application/json")
    response = case.call(base_url=server.url, headers={"x-api-key": KEY})
    assert response.status_code == 200, response.text
    case.validate_response(response, checks=CONFORMANCE)
    assert "tool_use" in response.text
