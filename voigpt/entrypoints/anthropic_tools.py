"""Anthropic's tool use, read into the domain's values: ``tools``, ``tool_choice`` and the
structured output format into an ``OutputSpec`` (messages holding ``tool_use`` and
``tool_result`` blocks: ``anthropic_history``).

- ``tools``: custom tools ``{"name", "description", "input_schema", "type"?: "custom"}``
  (other keys, such as ``cache_control`` and ``strict``, are ignored). Anthropic's server
  tools (web search, code execution, computer use, text editor, bash, web fetch: any
  versioned ``type``) are refused by name: voigpt.com runs no tools.
- ``tool_choice``: ``{"type": "auto" | "any" | "tool" | "none", "name"?,
  "disable_parallel_tool_use"?}``.
- ``output_config.format`` (and the older beta's top-level ``output_format``):
  ``{"type": "json_schema", "schema": {...}}``.

Every refusal is an ``InvalidInput`` naming where it is (``tools[1].input_schema: ...``).
"""

from __future__ import annotations

from collections.abc import Mapping

from voigpt.domain.errors import InvalidInput
from voigpt.domain.tools.values import (
    AUTO,
    NONE,
    REQUIRED,
    OutputSpec,
    ResponseFormat,
    Tool,
    ToolChoice,
)

_CHOICES = {"auto": AUTO, "any": REQUIRED, "none": NONE}
_CHOICE_SHAPE = ("tool_choice must be {'type': 'auto' | 'any' | 'none'} or "
                 "{'type': 'tool', 'name': ...}")


def output_spec(tools: object, tool_choice: object, output_format: object,
                where_format: str = "output_config.format") -> OutputSpec | None:
    """The spec these ask for; None when they ask for nothing (the plain text path)."""
    offered = _tools(tools)
    choice, parallel = _choice(tool_choice)
    fmt = None if output_format is None else _format(output_format, where_format)
    if (not offered or choice is NONE) and fmt is None:
        if choice.calls_required:
            kind = "any" if choice is REQUIRED else "tool"
            raise InvalidInput(f"tool_choice {{'type': {kind!r}}} needs tools to call")
        return None
    return OutputSpec(tools=offered, choice=choice, parallel=parallel, format=fmt)


def _tools(tools: object) -> tuple[Tool, ...]:
    if tools is None:
        return ()
    if not isinstance(tools, list):
        raise InvalidInput(f"tools must be a list, got {type(tools).__name__}")
    return tuple(_tool(item, f"tools[{index}]") for index, item in enumerate(tools))


def _tool(item: object, where: str) -> Tool:
    if not isinstance(item, Mapping):
        raise InvalidInput(f"{where} must be an object, got {type(item).__name__}")
    kind = item.get("type")
    if kind is not None and kind != "custom":
        if isinstance(kind, str) and "_" in kind:
            raise InvalidInput(f"{where}: the server tool {kind[:60]!r} is not supported: "
                               "voigpt.com runs no tools; offer a custom tool (name, "
                               "description, input_schema) instead")
        raise InvalidInput(f"{where}: 'type' must be 'custom', got {str(kind)[:40]!r}")
    missing = [key for key in ("name", "input_schema") if key not in item]
    if missing:
        raise InvalidInput(f"{where} is missing {' and '.join(map(repr, missing))}")
    description = item.get("description") or ""
    if not isinstance(description, str):
        raise InvalidInput(f"{where}.description must be a string")
    try:
        return Tool(name=item["name"], description=description,
                    parameters=item["input_schema"])
    except InvalidInput as exc:
        text = str(exc)
        if text.startswith("parameters "):
            raise InvalidInput(f"{where}.input_schema {text.removeprefix('parameters ')}"
                               ) from None
        raise InvalidInput(f"{where}.name: {text}") from None


def _choice(value: object) -> tuple[ToolChoice, bool]:
    """The choice and whether calls may be made in parallel."""
    if value is None:
        return AUTO, True
    if not isinstance(value, Mapping):
        raise InvalidInput(_CHOICE_SHAPE)
    kind, name = value.get("type"), value.get("name")
    disable = value.get("disable_parallel_tool_use", False)
    if not isinstance(disable, bool):
        raise InvalidInput("tool_choice.disable_parallel_tool_use must be true or false")
    if kind == "tool":
        if not isinstance(name, str):
            raise InvalidInput("tool_choice {'type': 'tool'} needs 'name', a tool's name")
        return ToolChoice("named", name), not disable
    choice = _CHOICES.get(kind) if isinstance(kind, str) else None
    if choice is None:
        raise InvalidInput(f"{_CHOICE_SHAPE}, got type {str(kind)[:40]!r}")
    return choice, not disable


def _format(value: object, where: str) -> ResponseFormat:
    if not isinstance(value, Mapping) or value.get("type") != "json_schema":
        raise InvalidInput(f"{where} must be {{'type': 'json_schema', 'schema': {{...}}}}")
    if not isinstance(value.get("schema"), Mapping):
        raise InvalidInput(f"{where}.schema must be an object, a JSON Schema")
    try:
        return ResponseFormat(schema=value["schema"], strict=True)
    except InvalidInput as exc:
        raise InvalidInput(f"{where}.{exc}") from None
