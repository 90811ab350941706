"""Reading the model's reply back: text, tool calls, or a structured answer, each checked
against what was asked; or the ``Problem`` that makes it unusable.

The JSON of a reply is found where a chat model puts it: the whole reply, a fenced block
(```json or bare ```), or an object with prose before or after it. Within it, a call is
``{"tool_calls": [{"name", "arguments"}, ...]}`` or one ``{"name", "arguments"}``;
``parameters`` is a synonym of ``arguments``, which may be an object or JSON text of one
(OpenAI's own ``{"type": "function", "function": {...}}`` items are read too). Where one
tool must be called (named, or the only one offered), a bare object that fits its schema
is read as its arguments. A reply with none of these is a text answer. Nothing a reply
holds raises anything but ``Problem`` values: the text is bounded in how much JSON
scanning it can cause.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import attrs

from voigpt.domain.tools import prompt
from voigpt.domain.tools.checks import instance_problem
from voigpt.domain.tools.values import OutputSpec, ToolCall

_FENCE = re.compile(r"```[ \t]*(?:json|JSON|jsonc)?[ \t]*\r?\n(.*?)```", re.S)
_START = re.compile(r'\{\s*["}]')  # where an object can begin
MAX_SCANS = 64  # raw_decode attempts on one reply
_decoder = json.JSONDecoder()
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


@attrs.frozen
class Reading:
    """A usable reply: its text (the JSON of a structured answer), its calls, its data."""

    text: str
    calls: tuple[ToolCall, ...] = ()
    data: Any = None


@attrs.frozen
class Problem:
    """Why a reply is unusable: ``detail`` for the caller, ``correction`` for the model."""

    detail: str
    correction: str


def read(reply: str, spec: OutputSpec, new_id: Callable[[], str]) -> Reading | Problem:
    """What ``reply`` means under ``spec``."""
    values = list(json_values(reply))
    if spec.offered:
        for value in values:
            raw = _raw_calls(value)
            if raw is not None:
                return _calls(raw, spec, new_id)
        if spec.choice.calls_required:
            bare = _bare_arguments(values, spec)
            if bare is not None:
                return _calls([bare], spec, new_id)
            return Problem("the model answered in text where a tool call was required",
                           prompt.must_call(spec))
    if spec.format is None:
        return Reading(reply)
    return _structured([value for value in values if isinstance(value, dict)], spec)


def json_values(text: str) -> Iterator[Any]:
    """The JSON values in ``text``, most likely first: all of it, fenced blocks, then
    each object embedded in prose."""
    whole = text.strip()
    if whole[:1] in ("{", "["):
        yield from _decoded(whole)
    for match in _FENCE.finditer(text):
        yield from _decoded(match.group(1).strip())
    scans, position = 0, 0
    while scans < MAX_SCANS:
        found = _START.search(text, position)
        if found is None:
            return
        scans += 1
        try:
            value, end = _decoder.raw_decode(text, found.start())
        except (ValueError, RecursionError):
            position = found.start() + 1
            continue
        yield value
        position = end


def _decoded(text: str) -> Iterator[Any]:
    try:
        yield json.loads(text)
    except (ValueError, RecursionError):
        return


def _raw_calls(value: Any) -> list[Any] | None:
    """The call items ``value`` holds, if it is written as calls."""
    if not isinstance(value, dict):
        return None
    calls = value.get("tool_calls")
    if isinstance(calls, list) and calls:
        return calls
    if _call_like(value):
        return [value]
    return None


def _bare_arguments(values: list[Any], spec: OutputSpec) -> dict[str, Any] | None:
    """Where one tool must be called (it is named, or the only one offered), a bare object
    that fits its schema is read as its arguments: GPT-3.5 often answers a forced call
    with the arguments alone."""
    tools = spec.offered
    name = spec.choice.name or (tools[0].name if len(tools) == 1 else None)
    tool = None if name is None else spec.tool(name)
    if tool is None:
        return None
    for value in values:
        if isinstance(value, dict) and "tool_calls" not in value and \
                instance_problem(value, tool.parameters) is None:
            return {"name": tool.name, "arguments": value}
    return None


def _call_like(item: Mapping[str, Any]) -> bool:
    function = item.get("function")
    if item.get("type") == "function" and isinstance(function, dict):
        item = function
    return isinstance(item.get("name"), str) and ("arguments" in item or "parameters" in item)


def _calls(raw: list[Any], spec: OutputSpec, new_id: Callable[[], str]) -> Reading | Problem:
    if not spec.parallel and len(raw) > 1:
        return Problem(f"the model made {len(raw)} calls where one at a time was asked",
                       prompt.one_call())
    calls = []
    for item in raw:
        parsed = _call(item)
        if parsed is None:
            return Problem("the model wrote a tool call without a name or arguments",
                           prompt.malformed_call())
        name, arguments = parsed
        tool = spec.tool(name)
        if tool is None:
            return Problem(f"the model called {name[:80]!r}, which is not an offered tool",
                           prompt.unknown_tool(name, spec))
        if spec.choice.name is not None and name != spec.choice.name:
            return Problem(f"the model called {name!r} where {spec.choice.name!r} was "
                           "required", prompt.wrong_tool(name, spec))
        problem = (instance_problem(arguments, tool.parameters) if isinstance(arguments, dict)
                   else "they are not a JSON object")
        if problem is not None:
            return Problem(f"the arguments of the call to {name!r} do not fit its schema: "
                           f"{problem}", prompt.bad_arguments(name, problem))
        calls.append(ToolCall(id=new_id(), name=name, arguments=_encode(arguments)))
    return Reading("", calls=tuple(calls))


def _call(item: Any) -> tuple[str, Any] | None:
    """``(name, arguments)`` of one call item (arguments decoded from JSON text)."""
    if not isinstance(item, dict):
        return None
    function = item.get("function")
    if item.get("type") == "function" and isinstance(function, dict):
        item = function
    name = item.get("name")
    if not isinstance(name, str):
        return None
    arguments = item.get("arguments", item.get("parameters"))
    if arguments is None:
        arguments = {}
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except (ValueError, RecursionError):
            return name, arguments  # not an object: refused by the caller's check
    return name, arguments


def _structured(objects: list[dict[str, Any]], spec: OutputSpec) -> Reading | Problem:
    schema = spec.format.schema if spec.format is not None else None
    if not objects:
        return Problem("the model's answer holds no JSON object", prompt.no_json(spec))
    if schema is None:
        return Reading(_encode(objects[0]), data=objects[0])
    first = None
    for value in objects:
        problem = instance_problem(value, schema)
        if problem is None:
            return Reading(_encode(value), data=value)
        first = first or problem
    assert first is not None
    return Problem(f"the model's JSON does not fit the schema: {first}",
                   prompt.bad_json(first))
