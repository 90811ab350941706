"""Tool calls and structured output on ``POST /v1/chat/completions``, driven by the openai
SDK through a real uvicorn to the real emulator, whose replies each test scripts
(``queue_replies``): the model's reply in every shape the parser accepts becomes
``message.tool_calls``, plain and streamed (OpenAI's delta grammar, checked by the SDK's
own stream accumulation); ``parse()`` gets its pydantic object; the tool loop's history
reaches the site as text; an unusable reply is repaired once, or is a 502
``invalid_model_reply``; a bad request is a 400 naming the parameter before any I/O; and
no key or token is ever in what the site is sent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pydantic
import pytest
from openai.lib.streaming.chat import ChatCompletionStreamState

from tests.support.messages import EMULATOR_REPLY, HELLO
from tests.support.server import Served, error_of, metric, served
from voigpt.async_client import AsyncClient
from voigpt.emulator import Emulator

MODEL = "gpt-3.5-turbo"
KEY = "sk-chat-tools-secret-key-0123456789"
WEATHER: Any = {"type": "function", "function": {
    "name": "get_weather", "description": "The weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                   "required": ["city"], "additionalProperties": False}}}
ASK = [{"role": "user", "content": "What is the weather in Paris?"}]
CALL = '{"tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]}'
REPAIRS = "voigpt_model_reply_repairs_total"


@pytest.fixture(scope="module")
def server(site: Emulator) -> Iterator[Served]:
    client = AsyncClient(base_url=site.url, retries=0, timeout=5, environ={})
    with served(client, _keyed()) as running:
        yield running


def _keyed() -> Any:
    from voigpt.entrypoints.server.settings import ServerSettings

    return ServerSettings(api_keys=(KEY,))


@pytest.fixture
def sdk(server: Served) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=server.v1, api_key=KEY, max_retries=0) as client:
        yield client


def posts(emulator: Emulator) -> list[Any]:
    return [r for r in emulator.requests if r.method == "POST"]


# --- tool calls -------------------------------------------------------------------------

SHAPES = {
    "bare": CALL,
    "fenced-json": f"```json\n{CALL}\n```",
    "fenced": f"Here you go:\n```\n{CALL}\n```\n",
    "prose-around": 'Sure. {"name": "get_weather", "arguments": {"city": "Paris"}} Done.',
    "single": '{"name": "get_weather", "arguments": {"city": "Paris"}}',
    "parameters": '{"name": "get_weather", "parameters": {"city": "Paris"}}',
    "arguments-as-text": '{"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"}',
}


@pytest.mark.parametrize("reply", SHAPES.values(), ids=SHAPES.keys())
def test_a_reply_in_every_accepted_shape_is_a_tool_call(
    sdk: openai.OpenAI, emulator: Emulator, reply: str
) -> None:
    emulator.queue_replies(reply)
    completion = sdk.chat.completions.create(model=MODEL, messages=ASK, tools=[WEATHER])
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    calls = choice.message.tool_calls
    assert calls is not None and len(calls) == 1
    call = calls[0]
    assert isinstance(call, openai.types.chat.ChatCompletionMessageFunctionToolCall)
    assert call.id.startswith("call_") and call.type == "function"
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    assert completion.usage is not None and completion.usage.completion_tokens >= 5
    # the site was asked once, with the tools described in a system message at the end
    (sent,) = posts(emulator)
    last = sent.json()["messages"][-1]
    assert last["role"] == "system" and "get_weather" in last["content"]


def test_several_calls_at_once(sdk: openai.OpenAI, emulator: Emulator) -> None:
    emulator.queue_replies('{"tool_calls": [{"name": "get_weather", "arguments": {"city": '
                           '"Paris"}}, {"name": "get_weather", "arguments": {"city": "Rome"}}]}')
    message = sdk.chat.completions.create(model=MODEL, messages=ASK,
                                          tools=[WEATHER]).choices[0].message
    assert message.tool_calls is not None
    cities = [json.loads(call.function.arguments)["city"] for call in message.tool_calls
              if call.type == "function"]
    assert cities == ["Paris", "Rome"]
    assert len({call.id for call in message.tool_calls}) == 2


def test_a_text_reply_with_tools_offered_is_a_text_answer(
    sdk: openai.OpenAI, emulator: Emulator
) -> None:
    emulator.queue_replies("It is sunny in Paris.")
    completion = sdk.chat.completions.create(model=MODEL, messages=ASK, tools=[WEATHER],
                                             tool_choice="auto", parallel_tool_calls=False)
    choice = completion.choices[0]
    assert (choice.finish_reason, choice.message.content) == ("stop", "It is sunny in Paris.")
    assert choice.message.tool_calls is None


def _raw_stream(sdk: openai.OpenAI, **extra: Any) -> tuple[list[Any], ChatCompletionStreamState]:
    state = ChatCompletionStreamState()
    chunks = []
    for chunk in sdk.chat.completions.create(model=MODEL, messages=ASK, tools=[WEATHER],
                                             stream=True, **extra):
        chunks.append(chunk)
        state.handle_chunk(chunk)
    return chunks, state


def test_a_streamed_tool_call_is_openais_delta_grammar(
    sdk: openai.OpenAI, emulator: Emulator
) -> None:
    emulator.queue_replies(SHAPES["fenced-json"])
    chunks, state = _raw_stream(sdk, stream_options={"include_usage": True})
    deltas = [chunk.choices[0].delta for chunk in chunks if chunk.choices]
    assert deltas[0].role == "assistant" and deltas[0].content is None
    named, arguments = deltas[1].tool_calls, deltas[2].tool_calls
    assert named is not None and arguments is not None
    assert named[0].index == 0 and named[0].id and named[0].id.startswith("call_")
    assert named[0].function is not None and named[0].function.name == "get_weather"
    assert named[0].function.arguments == ""
    assert arguments[0].id is None and arguments[0].function is not None
    assert json.loads(arguments[0].function.arguments or "") == {"city": "Paris"}
    assert [c.choices[0].finish_reason for c in chunks if c.choices] == [
        None, None, None, "tool_calls"]
    assert chunks[-1].usage is not None and not chunks[-1].choices
    final = state.get_final_completion()
    (call,) = final.choices[0].message.tool_calls or []
    assert call.id == named[0].id and call.function.name == "get_weather"
    assert call.function.parsed_arguments is None  # not a strict tool: left as text
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    assert final.choices[0].finish_reason == "tool_calls"


def test_the_sdks_stream_helper_accumulates_the_calls(
    sdk: openai.OpenAI, emulator: Emulator
) -> None:
    emulator.queue_replies('{"tool_calls": [{"name": "get_weather", "arguments": {"city": '
                           '"Paris"}}, {"name": "get_weather", "arguments": {"city": "Oslo"}}]}')
    done = []
    with sdk.chat.completions.stream(model=MODEL, messages=ASK, tools=[WEATHER]) as stream:
        for event in stream:
            if event.type == "tool_calls.function.arguments.done":
                done.append((event.name, event.arguments))
        final = stream.get_final_completion()
    assert done == [("get_weather", '{"city":"Paris"}'), ("get_weather", '{"city":"Oslo"}')]
    calls = final.choices[0].message.tool_calls or []
    assert [json.loads(c.function.arguments) for c in calls] == [{"city": "Paris"},
                                                                 {"city": "Oslo"}]
    assert final.choices[0].finish_reason == "tool_calls"


# --- structured output --------------------------------------------------------------------


class Weather(pydantic.BaseModel):
    city: str
    celsius: int


def test_parse_with_a_pydantic_model_gives_the_parsed_object(
    sdk: openai.OpenAI, emulator: Emulator
) -> None:
    emulator.queue_replies('```json\n{"city": "Paris", "celsius": 21}\n```')
    completion = sdk.chat.completions.parse(model=MODEL, messages=ASK, response_format=Weather)
    message = completion.choices[0].message
    assert message.parsed == Weather(city="Paris", celsius=21)
    assert json.loads(message.content or "") == {"city": "Paris", "celsius": 21}
    assert completion.choices[0].finish_reason == "stop"
    prompt = posts(emulator)[0].json()["messages"][-1]["content"]
    assert '"celsius"' in prompt  # the schema was sent to the model


def test_json_object_mode_answers_the_json_text(sdk: openai.OpenAI, emulator: Emulator) -> None:
    emulator.queue_replies('The answer: {"ok": true}')
    completion = sdk.chat.completions.create(model=MODEL, messages=ASK,
                                             response_format={"type": "json_object"})
    assert json.loads(completion.choices[0].message.content or "") == {"ok": True}


# --- the tool loop ------------------------------------------------------------------------


def test_the_tool_loop_sends_the_calls_and_the_result_back_as_text(
    sdk: openai.OpenAI, emulator: Emulator
) -> None:
    emulator.queue_replies(CALL, "It is sunny and 21 °C in Paris.")
    messages: list[Any] = list(ASK)
    first = sdk.chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER])
    assistant = first.choices[0].message
    (call,) = assistant.tool_calls or []
    messages.append(assistant)  # the SDK's own object, as its docs show
    messages.append({"role": "tool", "tool_call_id": call.id, "content": "sunny, 21 °C"})
    second = sdk.chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER])
    assert second.choices[0].message.content == "It is sunny and 21 °C in Paris."
    sent = emulator.requests[-1].json()["messages"]
    assert sent[0] == ASK[0]
    assert sent[1]["role"] == "assistant"
    assert json.loads(sent[1]["content"]) == {"tool_calls": [
        {"id": call.id, "name": "get_weather", "arguments": {"city": "Paris"}}]}
    assert sent[2] == {"role": "user",
                       "content": f"Result of tool call {call.id}:\nsunny, 21 °C"}
    assert sent[3]["role"] == "system"


# --- repair -------------------------------------------------------------------------------

BAD = {
    "unknown-tool": ('{"name": "get_time", "arguments": {}}', {}, "get_time"),
    "bad-arguments": ('{"name": "get_weather", "arguments": {"town": "Paris"}}', {}, "city"),
    "text-where-required": ("I think it is sunny.", {"tool_choice": "required"}, "must call"),
    "wrong-named": ('{"name": "get_time", "arguments": {}}',
                    {"tool_choice": {"type": "function", "function": {"name": "get_weather"}}},
                    "get_weather"),
}


@pytest.mark.parametrize(("bad", "options", "named"), BAD.values(), ids=BAD.keys())
def test_an_unusable_reply_is_repaired_once(
    server: Served, sdk: openai.OpenAI, emulator: Emulator, bad: str, options: dict[str, Any],
    named: str,
) -> None:
    before = metric(server.url, REPAIRS)
    emulator.queue_replies(bad, CALL)
    tools = [WEATHER, {"type": "function", "function": {"name": "get_clock"}}] \
        if "wrong-named" in str(options) else [WEATHER]
    completion = sdk.chat.completions.create(model=MODEL, messages=ASK, tools=tools,
                                             **options)
    (call,) = completion.choices[0].message.tool_calls or []
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    first, second = posts(emulator)
    again = second.json()["messages"]
    assert again[:-2] == first.json()["messages"]
    assert again[-2] == {"role": "assistant", "content": bad}
    assert again[-1]["role"] == "user" and named in again[-1]["content"]
    assert metric(server.url, REPAIRS) == before + 1


def test_a_structured_answer_that_fails_its_schema_is_repaired(
    sdk: openai.OpenAI, emulator: Emulator
) -> None:
    emulator.queue_replies('{"city": "Paris", "celsius": "warm"}', '{"city": "Paris", '
                           '"celsius": 21}')
    completion = sdk.chat.completions.parse(model=MODEL, messages=ASK, response_format=Weather)
    assert completion.choices[0].message.parsed == Weather(city="Paris", celsius=21)
    correction = posts(emulator)[1].json()["messages"][-1]["content"]
    assert "schema" in correction and "warm" in correction


def test_two_unusable_replies_are_a_502_the_sdk_raises(
    server: Served, sdk: openai.OpenAI, emulator: Emulator
) -> None:
    emulator.queue_replies('{"name": "get_time", "arguments": {}}',
                           '{"name": "get_time", "arguments": {}}')
    with pytest.raises(openai.InternalServerError) as raised:
        sdk.chat.completions.create(model=MODEL, messages=ASK, tools=[WEATHER])
    assert raised.value.status_code == 502
    error = raised.value.response.json()["error"]
    assert error["code"] == "invalid_model_reply" and error["type"] == "server_error"
    assert "get_time" in error["message"] and "Traceback" not in raised.value.response.text
    assert len(posts(emulator)) == 2
    emulator.queue_replies("no json here", "still none")
    response = httpx.post(server.v1 + "/chat/completions", timeout=10,
                          headers={"Authorization": f"Bearer {KEY}"},
                          json={"messages": ASK, "response_format": {"type": "json_object"},
                                "stream": True})
    assert error_of(response, 502)["code"] == "invalid_model_reply"


def test_no_key_or_token_reaches_the_site_in_a_correction(
    sdk: openai.OpenAI, emulator: Emulator
) -> None:
    emulator.queue_replies("prose, not a call", CALL)
    sdk.chat.completions.create(model=MODEL, messages=ASK, tools=[WEATHER],
                                tool_choice="required")
    sent = posts(emulator)
    assert len(sent) == 2
    for request in emulator.requests:
        shown = {k: v for k, v in request.headers.items() if k not in ("cookie", "x-csrftoken")}
        assert KEY not in request.body.decode() and KEY not in json.dumps(shown)
    cookie = sent[1].headers["cookie"]
    token = cookie.partition("csrftoken=")[2].partition(";")[0]
    assert len(token) >= 32
    assert token not in sent[1].body.decode()
    assert sent[1].headers["x-csrftoken"] not in sent[1].body.decode()


# --- refused before any I/O ---------------------------------------------------------------

REFUSED = {
    "tools-not-a-list": ({"tools": WEATHER}, "tools"),
    "no-name": ({"tools": [{"type": "function", "function": {"parameters": {}}}]},
                "tools[0].function.name"),
    "bad-schema": ({"tools": [{"type": "function", "function": {
        "name": "f", "parameters": {"type": "objekt"}}}]}, "tools[0].function.parameters"),
    "hosted": ({"tools": [{"type": "web_search"}]}, "tools[0]"),
    "unknown-choice": ({"tools": [WEATHER], "tool_choice": {
        "type": "function", "function": {"name": "get_time"}}}, "tool_choice"),
    "required-without-tools": ({"tool_choice": "required"}, "tool_choice"),
    "bad-choice": ({"tools": [WEATHER], "tool_choice": "always"}, "tool_choice"),
    "bad-format-type": ({"response_format": {"type": "yaml"}}, "response_format.type"),
    "no-schema": ({"response_format": {"type": "json_schema", "json_schema": {"name": "x"}}},
                  "response_format.json_schema.schema"),
    "bad-format-schema": ({"response_format": {"type": "json_schema", "json_schema": {
        "name": "x", "schema": {"type": 5}}}}, "response_format.json_schema.schema"),
    "bad-parallel": ({"tools": [WEATHER], "parallel_tool_calls": "maybe"}, "parallel_tool_calls"),
}


@pytest.mark.parametrize(("options", "param"), REFUSED.values(), ids=REFUSED.keys())
def test_a_bad_tool_or_format_is_a_400_naming_it_before_any_io(
    server: Served, emulator: Emulator, options: dict[str, Any], param: str
) -> None:
    response = httpx.post(server.v1 + "/chat/completions", timeout=10,
                          headers={"Authorization": f"Bearer {KEY}"},
                          json={"messages": ASK, **options})
    error = error_of(response, 400)
    assert error["param"] == param, error
    assert error["code"] in ("invalid_value", "invalid_type"), error
    assert "Traceback" not in response.text
    assert not posts(emulator)


@pytest.mark.parametrize(("options", "param"), [
    ({"functions": [{"name": "f", "parameters": {}}]}, "functions"),
    ({"function_call": {"name": "f"}}, "function_call"),
])
def test_the_deprecated_functions_are_refused_by_name(
    server: Served, emulator: Emulator, options: dict[str, Any], param: str
) -> None:
    response = httpx.post(server.v1 + "/chat/completions", timeout=10,
                          headers={"Authorization": f"Bearer {KEY}"},
                          json={"messages": ASK, **options})
    error = error_of(response, 400)
    assert (error["param"], error["code"]) == (param, "unsupported_parameter")
    assert "tool" in error["message"]
    assert not posts(emulator)


# --- the plain path -----------------------------------------------------------------------


@pytest.mark.parametrize("options", [{}, {"tools": [], "tool_choice": "none"},
                                     {"response_format": {"type": "text"}},
                                     {"tools": [WEATHER], "tool_choice": "none"}])
def test_a_plain_request_gets_todays_answer(
    server: Served, emulator: Emulator, options: dict[str, Any]
) -> None:
    for stream in (False, True):
        response = httpx.post(server.v1 + "/chat/completions", timeout=10,
                              headers={"Authorization": f"Bearer {KEY}"},
                              json={"messages": HELLO, "stream": stream, **options})
        assert response.status_code == 200
        if not stream:
            choice = response.json()["choices"][0]
            assert choice == {"index": 0, "finish_reason": "stop", "logprobs": None,
                              "message": {"role": "assistant", "content": EMULATOR_REPLY,
                                          "refusal": None}}
        else:
            events = [json.loads(line[6:]) for line in response.text.split("\n\n")
                      if line.startswith("data: {")]
            assert [e["choices"][0]["delta"] for e in events] == [
                {"role": "assistant", "content": "", "refusal": None},
                {"content": EMULATOR_REPLY}, {}]
        assert emulator.requests[-1].json() == {"messages": HELLO}


def test_an_sdk_at_its_default_retries_does_not_resend_an_unusable_reply(
    server: Served, emulator: Emulator
) -> None:
    """The 502 says ``x-should-retry: false``: voigpt has repaired once already, and the
    openai SDK's two default retries would each cost two more upstream requests."""
    emulator.queue_replies("no json here", "still none", '{"a": 1}', '{"a": 1}')
    with openai.OpenAI(base_url=server.v1, api_key=KEY) as default_sdk, \
            pytest.raises(openai.InternalServerError) as raised:
        default_sdk.chat.completions.create(model=MODEL, messages=ASK,
                                            response_format={"type": "json_object"})
    assert raised.value.response.headers["x-should-retry"] == "false"
    assert len(posts(emulator)) == 2 and emulator.replies_pending == 2


def test_usage_counts_what_the_model_was_given_the_instructions_too(
    sdk: openai.OpenAI, emulator: Emulator
) -> None:
    from voigpt.domain.values import Conversation
    from voigpt.entrypoints.openai_format import usage

    emulator.queue_replies(CALL)
    completion = sdk.chat.completions.create(model=MODEL, messages=ASK, tools=[WEATHER])
    (sent,) = posts(emulator)
    given = Conversation.from_dicts(sent.json()["messages"])
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == usage(given, "")["prompt_tokens"]
    assert completion.usage.prompt_tokens > usage(Conversation.from_dicts(ASK), "")[
        "prompt_tokens"] + 20
