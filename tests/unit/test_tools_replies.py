"""The reply parser (``voigpt.domain.tools.replies``), driven by Hypothesis: every shape the
issue names round-trips to the same calls or data, and nothing it is fed raises anything
but the documented outcomes (a ``Reading`` or a ``Problem``)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voigpt.domain.tools import replies
from voigpt.domain.tools.replies import Problem, Reading, json_values, read
from voigpt.domain.tools.values import (
    JSON_OBJECT,
    REQUIRED,
    OutputSpec,
    ResponseFormat,
    Tool,
    ToolChoice,
)

ANY_OBJECT = {"type": "object"}
TOOLS = (Tool("get_weather", "Weather in a city", ANY_OBJECT), Tool("add", "", ANY_OBJECT),
         Tool("x.y:z-1", "", ANY_OBJECT))
SPEC = OutputSpec(tools=TOOLS)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def ids() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"call_{next(counter)}"


scalars = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=12) | \
    st.floats(allow_nan=False, allow_infinity=False, width=32)
json_data = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.text(max_size=8), inner, max_size=3), max_leaves=8)
arguments = st.dictionaries(st.text(max_size=8), json_data, max_size=4)
calls = st.lists(st.tuples(st.sampled_from([tool.name for tool in TOOLS]), arguments),
                 min_size=1, max_size=3)
prose = st.text(alphabet=st.characters(blacklist_characters="{}`[]\\\""), max_size=40)


def write_call(name: str, args: dict[str, Any], style: int) -> dict[str, Any]:
    """One call item, in one of the accepted ways of writing it."""
    if style == 0:
        return {"name": name, "arguments": args}
    if style == 1:
        return {"name": name, "parameters": args}
    if style == 2:
        return {"name": name, "arguments": json.dumps(args)}
    return {"type": "function", "function": {"name": name, "arguments": json.dumps(args)}}


def wrap(document: str, how: int, before: str, after: str) -> str:
    """The JSON as the model may write it: bare, fenced (json or not), in prose."""
    if how == 0:
        return document
    if how == 1:
        return f"```json\n{document}\n```"
    if how == 2:
        return f"{before}\n```\n{document}\n```\n{after}"
    return f"{before} {document} {after}"


@FAST
@given(calls=calls, style=st.integers(0, 3), how=st.integers(0, 3), single=st.booleans(),
       before=prose, after=prose)
def test_every_accepted_call_shape_round_trips(calls: list[tuple[str, dict[str, Any]]],
                                               style: int, how: int, single: bool,
                                               before: str, after: str) -> None:
    items = [write_call(name, args, style) for name, args in calls]
    document = items[0] if single and len(items) == 1 else {"tool_calls": items}
    reply = wrap(json.dumps(document, ensure_ascii=False), how, before, after)

    reading = read(reply, SPEC, ids())

    assert isinstance(reading, Reading), reading
    assert [(call.name, call.args) for call in reading.calls] == calls
    assert [call.id for call in reading.calls] == [f"call_{n}" for n in range(1, len(calls) + 1)]
    assert reading.text == ""


@FAST
@given(data=st.dictionaries(st.text(max_size=8), json_data, max_size=4), how=st.integers(0, 3),
       before=prose, after=prose)
def test_every_accepted_structured_shape_round_trips(data: dict[str, Any], how: int,
                                                     before: str, after: str) -> None:
    reply = wrap(json.dumps(data, ensure_ascii=False), how, before, after)

    reading = read(reply, OutputSpec(format=JSON_OBJECT), ids())

    assert isinstance(reading, Reading), reading
    assert reading.data == data
    assert json.loads(reading.text) == data
    assert reading.calls == ()


@FAST
@given(text=st.text(max_size=300) | st.builds(
    lambda parts: "".join(parts),
    st.lists(st.sampled_from(['{', '}', '[', ']', '"', ':', ',', '```', 'json\n', 'name',
                              '"tool_calls"', '"arguments"', '"name"', '1', 'null', '\\']),
             max_size=60)),
       spec=st.sampled_from([SPEC, OutputSpec(tools=TOOLS, choice=REQUIRED, parallel=False),
                             OutputSpec(tools=TOOLS, choice=ToolChoice("named", "add")),
                             OutputSpec(format=JSON_OBJECT),
                             OutputSpec(format=ResponseFormat({"type": "object",
                                                               "required": ["a"]})),
                             OutputSpec(tools=TOOLS, format=JSON_OBJECT)]))
def test_nothing_it_is_fed_raises(text: str, spec: OutputSpec) -> None:
    outcome = read(text, spec, ids())
    assert isinstance(outcome, (Reading, Problem))
    if isinstance(outcome, Problem):
        assert outcome.detail and outcome.correction


def test_a_reply_with_no_call_is_a_text_answer_when_calls_are_optional() -> None:
    reply = 'I would say {"mood": "fine"} or so; no tool needed.'
    assert read(reply, SPEC, ids()) == Reading(reply)
    assert read("Just text.", OutputSpec(tools=TOOLS, choice=ToolChoice("none")), ids()) == \
        Reading("Just text.")


def test_json_values_prefers_the_whole_reply_then_fences_then_embedded_objects() -> None:
    reply = 'See {"c": 3}\n```json\n{"b": 2}\n```\n'
    assert list(json_values('{"a": 1}')) == [{"a": 1}, {"a": 1}]
    assert list(json_values(reply))[:2] == [{"b": 2}, {"c": 3}]


def test_scanning_is_bounded_on_a_hostile_reply(monkeypatch: pytest.MonkeyPatch) -> None:
    """A megabyte of unclosed objects costs a bounded number of decode attempts."""
    attempts = []
    decode = replies._decoder.raw_decode

    def counted(text: str, index: int = 0) -> tuple[Any, int]:
        attempts.append(index)
        return decode(text, index)

    monkeypatch.setattr(replies._decoder, "raw_decode", counted)
    hostile = '{"a":' * 200_000
    assert read(hostile, SPEC, ids()) == Reading(hostile)
    assert isinstance(read(hostile, OutputSpec(format=JSON_OBJECT), ids()), Problem)
    assert len(attempts) == 2 * 64  # MAX_SCANS each


WEATHER = Tool("get_weather", "", {"type": "object", "properties": {"city": {"type": "string"}},
                                   "required": ["city"], "additionalProperties": False})
PROBLEMS = {
    "unknown tool": (OutputSpec(tools=(WEATHER,)), '{"name": "launch", "arguments": {}}',
                     "not an offered tool", 'There is no tool named "launch"'),
    "arguments off schema": (OutputSpec(tools=(WEATHER,)),
                             '{"name": "get_weather", "arguments": {"town": "Paris"}}',
                             "'city' is a required property", "do not fit its schema"),
    "arguments not an object": (OutputSpec(tools=(WEATHER,)),
                                '{"name": "get_weather", "arguments": "Paris"}',
                                "not a JSON object", "do not fit its schema"),
    "text where required": (OutputSpec(tools=(WEATHER,), choice=REQUIRED), "It is sunny.",
                            "answered in text", "You must call one of the tools"),
    "another tool than the named one": (
        OutputSpec(tools=(WEATHER, Tool("add")), choice=ToolChoice("named", "get_weather")),
        '{"name": "add", "arguments": {}}', "where 'get_weather' was required",
        'You must call the tool "get_weather", not "add"'),
    "two calls, one at a time asked": (
        OutputSpec(tools=(WEATHER,), parallel=False),
        '{"tool_calls": [{"name": "get_weather", "arguments": {"city": "a"}}, '
        '{"name": "get_weather", "arguments": {"city": "b"}}]}',
        "2 calls", "Call one tool at a time"),
    "no JSON where a format is asked": (OutputSpec(format=JSON_OBJECT), "Sure thing!",
                                        "holds no JSON object", "only a JSON object"),
    "JSON off the schema": (
        OutputSpec(format=ResponseFormat({"type": "object", "properties": {
            "age": {"type": "integer"}}, "required": ["age"]})),
        '{"age": "ten"}', "at $.age: 'ten' is not of type 'integer'",
        "does not fit the schema: at $.age"),
}


@pytest.mark.parametrize("case", list(PROBLEMS))
def test_each_unusable_reply_is_a_specific_problem(case: str) -> None:
    spec, reply, detail, correction = PROBLEMS[case]
    outcome = read(reply, spec, ids())
    assert isinstance(outcome, Problem), outcome
    assert detail in outcome.detail
    assert correction in outcome.correction
    assert "Reply again" in outcome.correction or "Reply with only" in outcome.correction


def test_a_structured_answer_takes_the_first_object_that_fits() -> None:
    spec = OutputSpec(format=ResponseFormat({"type": "object", "required": ["b"]}))
    reading = read('first {"a": 1} then {"b": 2}', spec, ids())
    assert reading == Reading('{"b":2}', data={"b": 2})


def test_a_deeply_nested_reply_is_text_not_a_recursion_error() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    nested = '{"a":' * 100_000 + "1" + "}" * 100_000
    assert read(deep, SPEC, ids()) == Reading(deep)
    assert read(nested, SPEC, ids()) == Reading(nested)
    assert isinstance(read(nested, OutputSpec(format=JSON_OBJECT), ids()), Problem)


def test_when_no_object_fits_the_first_ones_problem_is_told() -> None:
    spec = OutputSpec(format=ResponseFormat({"type": "object", "properties": {
        "b": {"type": "integer"}}}))
    outcome = read('{"b": "first"} and then {"b": "second"}', spec, ids())
    assert isinstance(outcome, Problem)
    assert "at $.b: 'first' is not of type 'integer'" in outcome.detail


def test_a_forced_call_answered_with_bare_arguments_is_that_call() -> None:
    """GPT-3.5 often answers a forced call with the arguments alone."""
    named = OutputSpec(tools=(WEATHER, Tool("add")), choice=ToolChoice("named", "get_weather"))
    only = OutputSpec(tools=(WEATHER,), choice=REQUIRED)
    for spec in (named, only):
        reading = read('Here: {"city": "Paris"}', spec, ids())
        assert isinstance(reading, Reading)
        assert [(c.name, c.args) for c in reading.calls] == [("get_weather", {"city": "Paris"})]
    # Not when it does not fit, not where a choice among tools is left, nor where text is.
    assert isinstance(read('{"town": "Paris"}', named, ids()), Problem)
    assert isinstance(read('{"city": "Paris"}', OutputSpec(tools=(WEATHER, Tool("add")),
                                                           choice=REQUIRED), ids()), Problem)
    assert read('{"city": "Paris"}', OutputSpec(tools=(WEATHER,)), ids()) == \
        Reading('{"city": "Paris"}')
    # An empty list of calls is no call, even where any object would fit the arguments.
    assert isinstance(read('{"tool_calls": []}', OutputSpec(tools=(Tool("now"),),
                                                            choice=REQUIRED), ids()), Problem)
