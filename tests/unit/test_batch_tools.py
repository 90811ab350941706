"""A batch line may ask for tools, a tool choice and a JSON format in OpenAI's chat shapes:
they are read into the request's ``OutputSpec`` when the line is parsed, before anything is
sent, and a bad one is a problem of its line naming where it is."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from voigpt.domain.tools.values import JSON_OBJECT, REQUIRED, ToolChoice
from voigpt.entrypoints.batch.parsing import LineProblem, parse
from voigpt.entrypoints.batch.reading import BadInputFile, survey

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "The weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                   "required": ["city"]}}}


def line(custom_id: str = "a", **body: Any) -> bytes:
    return json.dumps({
        "custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions",
        "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}],
                 **body},
    }).encode()


def problem(**body: Any) -> str:
    with pytest.raises(LineProblem) as caught:
        parse(line(**body))
    return str(caught.value)


def test_a_plain_line_has_no_spec() -> None:
    assert parse(line()).spec is None
    assert parse(line(response_format={"type": "text"}, tools=[], tool_choice="none")).spec \
        is None


def test_tools_a_choice_and_parallel_calls_are_read_into_the_spec() -> None:
    spec = parse(line(tools=[WEATHER], tool_choice="required", parallel_tool_calls=False)).spec
    assert spec is not None
    assert [tool.name for tool in spec.tools] == ["get_weather"]
    assert spec.tools[0].description == "The weather in a city."
    assert spec.tools[0].parameters == WEATHER["function"]["parameters"]  # type: ignore[index]
    assert spec.choice == REQUIRED and spec.parallel is False and spec.format is None


def test_a_named_choice_and_the_default_auto() -> None:
    named = {"type": "function", "function": {"name": "get_weather"}}
    spec = parse(line(tools=[WEATHER], tool_choice=named)).spec
    assert spec is not None and spec.choice == ToolChoice("named", "get_weather")
    spec = parse(line(tools=[WEATHER])).spec
    assert spec is not None and spec.choice.mode == "auto" and spec.parallel is True


def test_json_object_and_json_schema_formats() -> None:
    spec = parse(line(response_format={"type": "json_object"})).spec
    assert spec is not None and spec.format == JSON_OBJECT and spec.tools == ()
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    spec = parse(line(response_format={"type": "json_schema", "json_schema": {
        "name": "Count", "schema": schema, "strict": True}})).spec
    assert spec is not None and spec.format is not None
    assert (spec.format.schema, spec.format.name, spec.format.strict) == (schema, "Count", True)


def test_history_with_tool_calls_and_results_is_accepted_as_text() -> None:
    messages = [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [{
            "id": "call_1", "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "18 C, sunny"},
    ]
    request = parse(line(messages=messages, tools=[WEATHER]))
    sent = request.conversation.to_dicts()
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert "get_weather" in sent[1]["content"] and '"city":"Paris"' in sent[1]["content"] \
        .replace(" ", "")
    assert "call_1" in sent[2]["content"] and "18 C, sunny" in sent[2]["content"]


BAD = [
    ({"tools": [{"type": "function", "function": {"name": "f", "parameters": {
        "type": "nonsense"}}}]}, "body.tools[0].function.parameters"),
    ({"tools": [WEATHER, {"type": "function", "function": {"description": "x"}}]},
     "body.tools[1].function is missing 'name'"),
    ({"tools": [{"type": "web_search"}]}, "body.tools[0]: the hosted tool 'web_search'"),
    ({"tools": [{"type": "file_search"}]}, "body.tools[0]: the hosted tool 'file_search'"),
    ({"tools": [{"type": "code_interpreter"}]}, "the hosted tool 'code_interpreter'"),
    ({"tools": "get_weather"}, "body.tools must be a list"),
    ({"tools": [WEATHER, WEATHER]}, "body.tools[1]: the name 'get_weather' is used twice"),
    ({"tool_choice": "required"}, "body.tool_choice 'required' needs tools to call"),
    ({"tools": [WEATHER], "tool_choice": "always"}, "body.tool_choice must be"),
    ({"tools": [WEATHER], "tool_choice": {"type": "function", "function": {"name": "g"}}},
     "body.tool_choice names 'g'"),
    ({"tools": [WEATHER], "parallel_tool_calls": "yes"},
     "body.parallel_tool_calls must be true or false"),
    ({"response_format": {"type": "xml"}}, "body.response_format.type must be"),
    ({"response_format": {"type": "json_schema", "json_schema": {"name": "x"}}},
     "body.response_format.json_schema.schema is missing"),
    ({"response_format": {"type": "json_schema", "json_schema": {
        "name": "x", "schema": {"type": 3}}}}, "body.response_format.json_schema.schema"),
    ({"functions": [WEATHER["function"]]}, "'body.functions' (deprecated by OpenAI)"),
    ({"function_call": {"name": "get_weather"}}, "'body.function_call'"),
    ({"n": 2, "tools": [WEATHER]}, "'body.n' must be 1"),
    ({"stream": True, "response_format": {"type": "json_object"}}, "'body.stream'"),
    ({"logprobs": True, "tools": [WEATHER]}, "'body.logprobs'"),
    ({"audio": {"voice": "x"}}, "'body.audio'"),
]


@pytest.mark.parametrize(("body", "expected"), BAD, ids=[e for _, e in BAD])
def test_a_bad_spec_is_a_problem_of_its_line_naming_where_it_is(
    body: dict[str, Any], expected: str
) -> None:
    assert expected in problem(**body)


def test_every_bad_spec_in_a_file_is_listed_before_anything_is_sent(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    bad = line("b", tools=[{"type": "function", "function": {"name": "f", "parameters": 5}}])
    path.write_bytes(line("a") + b"\n" + bad + b"\n" + line("c", tool_choice="required") + b"\n")
    with pytest.raises(BadInputFile) as caught:
        survey(path)
    found = caught.value.problems
    assert [number for number, _ in found] == [2, 3]
    assert found[0][1].startswith("body.tools[0].function.parameters")
