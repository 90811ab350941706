"""Tools and structured output on ``POST /v1/responses``, met by the official ``openai``
SDK: a scripted reply in each accepted shape is a ``function_call`` output item (plain,
streamed, and through ``responses.stream``); ``responses.parse(text_format=Model)`` gets
``output_parsed``; a call's output sent back (by ``previous_response_id`` or as the whole
history) reaches the site as the history every dialect writes; an unusable reply is
repaired once, then a 502; a bad or hosted tool, tool choice or format is a 400 naming
it, and the site sees nothing. The server runs in this process on a real uvicorn, over
voigpt's real aiohttp path to the bundled emulator, whose replies are scripted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pydantic
import pytest

from tests.support.server import Served, error_of, metric, served
from voigpt.async_client import AsyncClient
from voigpt.domain.tools.history import calls_text, result_text
from voigpt.emulator import Emulator
from voigpt.entrypoints.server.settings import ServerSettings

MODEL = "gpt-3.5-turbo"
KEY = "sk-responses-tools-key"
ASK = "What is the weather in Paris?"
WEATHER: Any = {  # a FunctionToolParam
    "type": "function", "name": "get_weather", "description": "The weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                   "required": ["city"]},
}
CALL = '{"tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]}'
REPAIRS = "voigpt_model_reply_repairs_total"
CALL_EVENTS = [
    "response.created", "response.in_progress", "response.output_item.added",
    "response.function_call_arguments.delta", "response.function_call_arguments.done",
    "response.output_item.done", "response.completed",
]


class Weather(pydantic.BaseModel):
    city: str
    celsius: int


@pytest.fixture(scope="module")
def server(site: Emulator) -> Iterator[Served]:
    client = AsyncClient(base_url=site.url, retries=0, timeout=5, environ={})
    with served(client, ServerSettings(api_keys=(KEY,))) as running:
        yield running


@pytest.fixture
def sdk(server: Served) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=server.v1, api_key=KEY, max_retries=0) as client:
        yield client


@pytest.mark.parametrize("reply", [
    CALL,
    '{"name": "get_weather", "arguments": {"city": "Paris"}}',
    'Sure.\n```json\n{"name": "get_weather", "parameters": {"city": "Paris"}}\n```',
    '```\n{"tool_calls": [{"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"}]}'
    '\n```',
    'I will call it: {"name": "get_weather", "arguments": {"city": "Paris"}} and wait.',
])
def test_a_tool_call_in_each_accepted_shape_is_a_function_call_item(
    sdk: openai.OpenAI, emulator: Emulator, reply: str
) -> None:
    emulator.queue_replies(reply)
    response = sdk.responses.create(model=MODEL, input=ASK, tools=[WEATHER])
    [item] = response.output
    assert item.type == "function_call", item
    assert item.id is not None and item.id.startswith("fc_")
    assert item.call_id.startswith("call_") and item.name == "get_weather"
    assert json.loads(item.arguments) == {"city": "Paris"} and item.status == "completed"
    assert response.output_text == "" and response.status == "completed"
    assert [tool.name for tool in response.tools] == ["get_weather"]  # type: ignore[union-attr]
    assert response.tool_choice == "auto" and response.usage is not None
    sent = emulator.requests[-1].json()["messages"]  # type: ignore[index]
    assert sent[0] == {"role": "user", "content": ASK}
    assert sent[-1]["role"] == "system" and "get_weather" in sent[-1]["content"]


def test_parallel_calls_are_one_item_each_and_a_text_answer_is_the_message(
    sdk: openai.OpenAI, emulator: Emulator
) -> None:
    emulator.queue_replies('{"tool_calls": [{"name": "get_weather", "arguments": {"city": '
                           '"Paris"}}, {"name": "get_weather", "arguments": {"city": "Rome"}}]}',
                           "It is sunny.")
    calls = sdk.responses.create(model=MODEL, input=ASK, tools=[WEATHER],
                                 tool_choice="required", parallel_tool_calls=True)
    items: list[Any] = calls.output
    assert [json.loads(item.arguments)["city"] for item in items] == ["Paris", "Rome"]
    assert len({item.call_id for item in calls.output}) == 2  # type: ignore[union-attr]
    assert calls.tool_choice == "required"
    text = sdk.responses.create(model=MODEL, input=ASK, tools=[WEATHER])
    assert [item.type for item in text.output] == ["message"]
    assert text.output_text == "It is sunny."


def test_a_named_tool_choice_is_echoed_and_none_tells_the_model_of_no_tool(
    sdk: openai.OpenAI, emulator: Emulator
) -> None:
    emulator.queue_replies(CALL)
    named = sdk.responses.create(model=MODEL, input=ASK, tools=[WEATHER],
                                 tool_choice={"type": "function", "name": "get_weather"})
    assert named.output[0].type == "function_call"
    assert named.tool_choice.name == "get_weather"  # type: ignore[union-attr]
    plain = sdk.responses.create(model=MODEL, input=ASK, tools=[WEATHER],
                                 tool_choice="none")
    assert plain.output_text.endswith(ASK) and plain.tool_choice == "none"
    assert emulator.requests[-1].json() == {"messages": [{"role": "user", "content": ASK}]}


def test_a_streamed_call_sends_openais_function_call_events(
    sdk: openai.OpenAI, emulator: Emulator
) -> None:
    emulator.queue_replies(CALL, CALL)
    events: list[Any] = list(sdk.responses.create(model=MODEL, input=ASK, tools=[WEATHER],
                                       stream=True))
    assert [event.type for event in events] == CALL_EVENTS
    assert [event.sequence_number for event in events] == list(range(len(CALL_EVENTS)))
    added, delta, done, item_done, completed = events[2:]
    assert added.item.arguments == "" and added.item.status == "in_progress"
    assert delta.item_id == done.item_id == added.item.id
    assert json.loads(delta.delta) == {"city": "Paris"}
    assert done.arguments == delta.delta and done.name == "get_weather"
    assert item_done.item.arguments == delta.delta
    assert completed.response.output[0].call_id == item_done.item.call_id
    with sdk.responses.stream(model=MODEL, input=ASK, tools=[WEATHER]) as stream:
        final = stream.get_final_response()
    [call] = final.output
    assert call.type == "function_call" and json.loads(call.arguments) == {"city": "Paris"}


def test_parse_with_a_pydantic_model_gets_output_parsed_plain_and_streamed(
    sdk: openai.OpenAI, emulator: Emulator
) -> None:
    emulator.queue_replies('```json\n{"city": "Paris", "celsius": 21}\n```',
                           '{"city": "Rome", "celsius": 25}')
    parsed = sdk.responses.parse(model=MODEL, input=ASK, text_format=Weather)
    assert parsed.output_parsed == Weather(city="Paris", celsius=21)
    assert json.loads(parsed.output_text) == {"city": "Paris", "celsius": 21}
    fmt = parsed.text.format  # type: ignore[union-attr]
    assert fmt.type == "json_schema" and fmt.name == "Weather"  # type: ignore[union-attr]
    sent = emulator.requests[-1].json()["messages"]  # type: ignore[index]
    assert "celsius" in sent[-1]["content"]  # the schema is in the instructions
    with sdk.responses.stream(model=MODEL, input=ASK, text_format=Weather) as stream:
        assert stream.get_final_response().output_parsed == Weather(city="Rome", celsius=25)


def test_json_object_is_one_json_object(sdk: openai.OpenAI, emulator: Emulator) -> None:
    emulator.queue_replies('Here: {"ok": true}')
    response = sdk.responses.create(model=MODEL, input="JSON please",
                                    text={"format": {"type": "json_object"}})
    assert json.loads(response.output_text) == {"ok": True}
    assert response.text.format.type == "json_object"  # type: ignore[union-attr]


def test_a_calls_output_continues_from_the_stored_response(
    sdk: openai.OpenAI, emulator: Emulator
) -> None:
    emulator.queue_replies(CALL, "It is 21 °C in Paris.")
    first = sdk.responses.create(model=MODEL, input=ASK, tools=[WEATHER])
    [call] = first.output
    assert call.type == "function_call"
    second = sdk.responses.create(
        model=MODEL, previous_response_id=first.id, tools=[WEATHER],
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "21 °C"}])
    assert second.output_text == "It is 21 °C in Paris."
    history = [
        {"role": "user", "content": ASK},
        {"role": "assistant", "content": calls_text([(call.call_id, "get_weather",
                                                      call.arguments)])},
        {"role": "user", "content": result_text(call.call_id, "21 °C")},
    ]
    sent = emulator.requests[-1].json()["messages"]  # type: ignore[index]
    assert sent[:-1] == history and sent[-1]["role"] == "system"
    assert history[1]["content"].startswith('{"tool_calls":[{"id":"call_')
    [listed] = sdk.responses.input_items.list(second.id).data
    assert listed.type == "function_call_output" and listed.call_id == call.call_id
    assert listed.output == "21 °C"
    # The whole history sent instead of the id: the site sees the same turns.
    emulator.queue_replies("Still 21 °C.")
    again = sdk.responses.create(model=MODEL, tools=[WEATHER], input=[
        {"role": "user", "content": ASK},
        {"type": "function_call", "id": call.id or "", "call_id": call.call_id,
         "name": "get_weather", "arguments": call.arguments, "status": "completed"},
        {"type": "function_call_output", "call_id": call.call_id,
         "output": [{"type": "input_text", "text": "21 °C"}]},
    ])
    assert again.output_text == "Still 21 °C."
    assert emulator.requests[-1].json()["messages"][:-1] == [  # type: ignore[index]
        *history[:2], {"role": "user", "content": result_text(call.call_id, "21 °C",
                                                              name="get_weather")}]
    listed_types = [item.type for item in sdk.responses.input_items.list(again.id,
                                                                           order="asc")]
    assert listed_types == ["message", "function_call", "function_call_output"]


def test_an_unusable_reply_is_repaired_once(
    server: Served, sdk: openai.OpenAI, emulator: Emulator
) -> None:
    before = metric(server.url, REPAIRS)
    emulator.queue_replies('{"name": "get_time", "arguments": {}}', CALL)
    response = sdk.responses.create(model=MODEL, input=ASK, tools=[WEATHER],
                                    tool_choice="required")
    assert response.output[0].type == "function_call"
    again = emulator.requests[-1].json()["messages"]  # type: ignore[index]
    assert again[-2] == {"role": "assistant", "content": '{"name": "get_time", "arguments": {}}'}
    assert metric(server.url, REPAIRS) == before + 1


@pytest.mark.parametrize("stream", [False, True])
def test_two_unusable_replies_are_a_502_invalid_model_reply(
    sdk: openai.OpenAI, emulator: Emulator, stream: bool
) -> None:
    emulator.queue_replies('{"city": "Paris"}', "Paris, 21 degrees")
    with pytest.raises(openai.InternalServerError) as info:
        sdk.responses.create(model=MODEL, input=ASK, stream=stream, text={"format": {
            "type": "json_schema", "name": "Weather", "strict": True,
            "schema": Weather.model_json_schema()}})
    assert info.value.status_code == 502
    assert info.value.body["code"] == "invalid_model_reply"  # type: ignore[index]
    posts = [request for request in emulator.requests if request.method == "POST"]
    assert len(posts) == 2 and emulator.replies_pending == 0  # (a GET / if no token yet)


@pytest.mark.parametrize(("options", "param"), [
    *[({"tools": [WEATHER, {"type": hosted}]}, "tools[1]") for hosted in (
        "web_search", "web_search_preview", "file_search", "code_interpreter",
        "computer_use_preview", "image_generation", "mcp", "local_shell")],
    ({"tools": [{"type": "function", "name": "f", "parameters": {"type": "thing"}}]},
     "tools[0].parameters"),
    ({"tools": [{"type": "function", "description": "nameless"}]}, "tools[0]"),
    ({"tools": [WEATHER, WEATHER]}, "tools[1]"),
    ({"tools": {"type": "function", "name": "f"}}, "tools"),
    ({"tool_choice": "required"}, "tool_choice"),
    ({"tools": [WEATHER], "tool_choice": {"type": "function", "name": "nope"}},
     "tool_choice"),
    ({"tools": [WEATHER], "tool_choice": "sometimes"}, "tool_choice"),
    ({"tools": [WEATHER], "parallel_tool_calls": [True]}, "parallel_tool_calls"),
    ({"text": {"format": {"type": "xml"}}}, "text.format.type"),
    ({"text": {"format": {"type": "json_schema", "name": "x"}}}, "text.format.schema"),
    ({"text": {"format": {"type": "json_schema", "name": "x", "schema": {"type": 3}}}},
     "text.format.schema"),
    ({"text": {"format": "json"}}, "text.format"),
    ({"input": [{"type": "function_call", "call_id": "c", "name": "f"}]}, "input"),
    ({"input": [{"type": "function_call_output", "call_id": "c",
                 "output": [{"type": "input_image", "image_url": "x"}]}]}, "input"),
    ({"input": [{"type": "web_search_call", "id": "ws_1"}]}, "input"),
])
def test_what_cannot_be_honoured_is_a_400_naming_it_and_the_site_sees_nothing(
    server: Served, emulator: Emulator, options: dict[str, Any], param: str
) -> None:
    response = httpx.post(server.v1 + "/responses", timeout=10,
                          headers={"Authorization": f"Bearer {KEY}"},
                          json={"model": MODEL, "input": ASK, **options})
    error = error_of(response, 400)
    assert error["param"] == param, error
    assert "Traceback" not in response.text
    assert not emulator.requests


def test_usage_counts_what_the_model_was_given_the_instructions_too(
    sdk: openai.OpenAI, emulator: Emulator
) -> None:
    from voigpt.domain.values import Conversation
    from voigpt.entrypoints.openai_format import usage

    emulator.queue_replies(CALL)
    response = sdk.responses.create(model=MODEL, input=ASK, tools=[WEATHER])
    sent = [request.json() for request in emulator.requests if request.method == "POST"]
    given = Conversation.from_dicts(sent[0]["messages"])  # type: ignore[index]
    assert response.usage is not None
    assert response.usage.input_tokens == usage(given, "")["prompt_tokens"]
