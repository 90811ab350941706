"""What a caller may ask of the answer besides text: tools the model may call, how it must
choose among them, and a JSON format its answer must fit; and the tool calls it made.

Every value checks itself when built (a JSON Schema by ``jsonschema``'s own meta-schema),
so a bad request is refused before any network I/O, naming what is wrong. The dialects
(OpenAI, Responses, Anthropic) build these from their own shapes; ``OutputSpec`` is what
the completion rules read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, TypedDict

import attrs

from voigpt.domain.errors import InvalidInput
from voigpt.domain.tools.checks import schema_problem_of

_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,128}")
EMPTY_PARAMETERS: Mapping[str, Any] = {"type": "object", "properties": {}}


def _check_name(instance: object, attribute: object, value: Any) -> None:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise InvalidInput(
            f"a tool's name must be 1 to 128 letters, digits, '_', '-', '.' or ':', got "
            f"{_short(value)}"
        )


def _check_schema(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    problem = schema_problem_of(value)
    if problem is not None:
        raise InvalidInput(f"{attribute.name} is not a valid JSON Schema: {problem}")


@attrs.frozen
class Tool:
    """A function the model may call: its name, what it does, and the JSON Schema of its
    arguments (an object). Checked when built: ``InvalidInput`` names what is wrong.

    :ivar name: 1 to 128 letters, digits, ``_``, ``-``, ``.`` or ``:``.
    :ivar description: what the tool does, told to the model.
    :ivar parameters: the JSON Schema of its arguments (valid by ``jsonschema``'s
        meta-schema); no properties by default.
    """

    name: str = attrs.field(validator=_check_name)
    description: str = attrs.field(default="", validator=attrs.validators.instance_of(str))
    parameters: Mapping[str, Any] = attrs.field(default=EMPTY_PARAMETERS,
                                                validator=_check_schema)


@attrs.frozen
class ToolChoice:
    """``auto`` (call tools or answer in text), ``none`` (answer in text), ``required``
    (call at least one tool) or ``named`` (call the tool ``name``).

    :ivar mode: ``"auto"``, ``"none"``, ``"required"`` or ``"named"``.
    :ivar name: the tool to call, for ``named`` only (and required there).
    """

    mode: str = attrs.field(validator=attrs.validators.in_(("auto", "none", "required",
                                                             "named")))
    name: str | None = None

    def __attrs_post_init__(self) -> None:
        if (self.mode == "named") != (self.name is not None):
            raise InvalidInput("a named tool choice needs a tool name, and only it has one")

    @property
    def calls_required(self) -> bool:
        """Whether the model must call a tool (``required`` or ``named``)."""
        return self.mode in ("required", "named")


AUTO, NONE, REQUIRED = ToolChoice("auto"), ToolChoice("none"), ToolChoice("required")


@attrs.frozen
class ResponseFormat:
    """The answer must be one JSON object; with ``schema``, one that fits it.

    :ivar schema: the JSON Schema the object must fit (``json_schema``), or ``None`` for any
        object (``json_object``).
    :ivar name: OpenAI's ``json_schema.name``, kept as given.
    :ivar description: OpenAI's ``json_schema.description``, kept as given.
    :ivar strict: OpenAI's ``json_schema.strict``, kept as given: the answer is checked
        against ``schema`` either way.
    """

    schema: Mapping[str, Any] | None = attrs.field(
        default=None, validator=attrs.validators.optional(_check_schema))
    name: str = "response"
    description: str = ""
    strict: bool = False


JSON_OBJECT = ResponseFormat()


@attrs.frozen
class ToolCall:
    """A call the model made: ``arguments`` is the JSON text of an object, as OpenAI's
    ``function.arguments`` carries it; ``args`` is that object.

    :ivar id: the call's id, which a tool result refers to.
    :ivar name: the tool called.
    :ivar arguments: its arguments, the JSON text of an object that fits the tool's schema.
    """

    id: str
    name: str
    arguments: str

    @property
    def args(self) -> dict[str, Any]:
        """``arguments`` parsed: a dict."""
        value: dict[str, Any] = json.loads(self.arguments)
        return value


@attrs.frozen
class OutputSpec:
    """Everything asked of one answer. ``tools`` have unique names; a ``required`` or
    ``named`` choice needs tools, and a named one a tool that is offered."""

    tools: tuple[Tool, ...] = ()
    choice: ToolChoice = AUTO
    parallel: bool = True
    format: ResponseFormat | None = None

    def __attrs_post_init__(self) -> None:
        names = [tool.name for tool in self.tools]
        for index, name in enumerate(names):
            if name in names[:index]:
                raise InvalidInput(f"tools[{index}]: the name {name!r} is used twice")
        if self.choice.calls_required and not self.tools:
            raise InvalidInput(f"tool_choice {self.choice.mode!r} needs tools to call")
        if self.choice.name is not None and self.choice.name not in names:
            raise InvalidInput(f"tool_choice names {self.choice.name!r}, which is not one "
                               f"of the tools ({', '.join(names) or 'none'})")

    @property
    def offered(self) -> tuple[Tool, ...]:
        """The tools the model is told of: none when the choice is ``none``."""
        return () if self.choice.mode == "none" else self.tools

    def tool(self, name: str) -> Tool | None:
        for tool in self.offered:
            if tool.name == name:
                return tool
        return None


class Asking(TypedDict, total=False):
    """``Client.complete``'s keyword arguments for a spec (none for no spec)."""

    tools: tuple[Tool, ...]
    tool_choice: ToolChoice
    response_format: ResponseFormat | None
    parallel_tool_calls: bool


def asking(spec: OutputSpec | None) -> Asking:
    """What to pass ``complete`` (``**asking(spec)``) for ``spec``; nothing for None, so a
    text request takes the plain path."""
    if spec is None:
        return {}
    return {"tools": spec.tools, "tool_choice": spec.choice, "response_format": spec.format,
            "parallel_tool_calls": spec.parallel}


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
