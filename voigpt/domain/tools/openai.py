"""OpenAI's shapes of tools, ``tool_choice`` and ``response_format``, read into an
``OutputSpec``: what ``Client.complete`` takes, and the chat route and batch lines send.

- ``tools``: ``{"type": "function", "function": {"name", "description", "parameters",
  "strict"}}`` (the Responses API's flat ``{"type": "function", "name", ...}`` too), or
  ``Tool`` values. Hosted tools (web search, file search, code interpreter, computer use)
  are refused by name: voigpt.com runs none.
- ``tool_choice``: ``"auto"``, ``"none"``, ``"required"``, ``{"type": "function",
  "function": {"name"}}`` (or the flat ``{"type": "function", "name"}``), or a
  ``ToolChoice``.
- ``response_format``: ``{"type": "text"}`` (nothing asked), ``{"type": "json_object"}``,
  ``{"type": "json_schema", "json_schema": {"name", "schema", "strict", "description"}}``,
  a ``ResponseFormat``, or a class with ``model_json_schema()`` (a pydantic model).

Each refusal names where it is (``tools[1].function.parameters: ...``), before any I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from voigpt.domain.errors import InvalidConfig, InvalidInput
from voigpt.domain.tools.values import (
    AUTO,
    EMPTY_PARAMETERS,
    JSON_OBJECT,
    NONE,
    REQUIRED,
    OutputSpec,
    ResponseFormat,
    Tool,
    ToolChoice,
)

HOSTED = ("web_search", "web_search_preview", "file_search", "code_interpreter",
          "computer_use", "computer_use_preview", "image_generation", "mcp", "local_shell")


def output_spec(tools: object = None, tool_choice: object = None,
                response_format: object = None,
                parallel_tool_calls: object = None) -> OutputSpec | None:
    """The spec these ask for; None when they ask for nothing (the plain text path)."""
    offered = read_tools(tools)
    choice = read_choice(tool_choice)
    fmt = read_format(response_format)
    if parallel_tool_calls is not None and not isinstance(parallel_tool_calls, bool):
        raise InvalidInput("parallel_tool_calls must be true or false")
    if (not offered or (choice is not None and choice.mode == "none")) and fmt is None:
        if choice is not None and choice.calls_required:
            raise InvalidInput(f"tool_choice {choice.mode!r} needs tools to call")
        return None
    return OutputSpec(tools=offered, choice=choice or AUTO,
                      parallel=parallel_tool_calls is not False, format=fmt)


def read_tools(tools: object) -> tuple[Tool, ...]:
    if tools is None:
        return ()
    if isinstance(tools, (str, bytes, Mapping)) or not isinstance(tools, Sequence):
        raise InvalidInput(f"tools must be a list, got {type(tools).__name__}")
    return tuple(_tool(item, f"tools[{index}]") for index, item in enumerate(tools))


def _tool(item: object, where: str) -> Tool:
    if isinstance(item, Tool):
        return item
    if not isinstance(item, Mapping):
        raise InvalidInput(f"{where} must be an object, got {type(item).__name__}")
    kind = item.get("type", "function")
    if kind in HOSTED or (isinstance(kind, str) and kind.startswith(HOSTED)):
        raise InvalidInput(f"{where}: the hosted tool {kind!r} is not supported: "
                           "voigpt.com runs no tools; offer a function instead")
    if kind != "function":
        raise InvalidInput(f"{where}: 'type' must be 'function', got {str(kind)[:40]!r}")
    nested = item.get("function")
    body, place = (nested, f"{where}.function") if isinstance(nested, Mapping) else (item, where)
    if "name" not in body:
        raise InvalidInput(f"{place} is missing 'name'")
    description = body.get("description") or ""
    if not isinstance(description, str):
        raise InvalidInput(f"{place}.description must be a string")
    parameters = body.get("parameters")
    try:
        return Tool(name=body["name"], description=description,
                    parameters=EMPTY_PARAMETERS if parameters is None else parameters)
    except InvalidConfig:
        raise
    except InvalidInput as exc:
        raise InvalidInput(f"{place}.{exc}" if str(exc).startswith("parameters")
                           else f"{place}: {exc}") from None


def read_choice(value: object) -> ToolChoice | None:
    if value is None or isinstance(value, ToolChoice):
        return value
    if isinstance(value, str):
        named = {"auto": AUTO, "none": NONE, "required": REQUIRED}.get(value)
        if named is None:
            raise InvalidInput("tool_choice must be 'auto', 'none', 'required' or "
                               f"{{'type': 'function', 'function': {{'name': ...}}}}, got "
                               f"{value[:40]!r}")
        return named
    if isinstance(value, Mapping) and value.get("type") == "function":
        function = value.get("function")
        name = function.get("name") if isinstance(function, Mapping) else value.get("name")
        if isinstance(name, str):
            return ToolChoice("named", name)
    raise InvalidInput("tool_choice must be 'auto', 'none', 'required' or "
                       "{'type': 'function', 'function': {'name': ...}}")


def read_format(value: object, *, where: str = "response_format",
                flat: bool = False) -> ResponseFormat | None:
    """Chat's ``response_format`` (the schema under ``json_schema``), or with ``flat`` the
    Responses API's ``text.format`` (``name``, ``schema``... beside ``type``)."""
    if value is None or isinstance(value, ResponseFormat):
        return value
    if isinstance(value, type) and hasattr(value, "model_json_schema"):
        return _format(value.model_json_schema(), value.__name__, "", True, where)
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{where} must be an object like {{'type': 'json_object'}}")
    kind = value.get("type")
    if kind == "text":
        return None
    if kind == "json_object":
        return JSON_OBJECT
    if kind != "json_schema":
        raise InvalidInput(f"{where}.type must be 'text', 'json_object' or "
                           f"'json_schema', got {str(kind)[:40]!r}")
    if flat:
        return _format(value.get("schema"), value.get("name", "response"),
                       value.get("description") or "", value.get("strict"), where)
    spec = value.get("json_schema")
    if not isinstance(spec, Mapping):
        raise InvalidInput("response_format.json_schema must be an object with 'name' "
                           "and 'schema'")
    return _format(spec.get("schema"), spec.get("name", "response"),
                   spec.get("description") or "", spec.get("strict"),
                   "response_format.json_schema")


def _format(schema: Any, name: Any, description: Any, strict: Any, where: str) -> ResponseFormat:
    if schema is None:
        raise InvalidInput(f"{where}.schema is missing: a json_schema format needs one")
    if not isinstance(name, str) or not isinstance(description, str):
        raise InvalidInput(f"{where}: 'name' and 'description' must be strings")
    try:
        return ResponseFormat(schema=schema, name=name, description=description,
                              strict=bool(strict))
    except InvalidConfig:
        raise
    except InvalidInput as exc:
        raise InvalidInput(f"{where}.{exc}") from None
