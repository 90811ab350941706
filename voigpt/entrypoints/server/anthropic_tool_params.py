"""How ``tools``, ``tool_choice`` and ``output_config`` look on ``POST /v1/messages``, as the
OpenAPI document describes them. They are read as sent by ``entrypoints.anthropic_tools``
(whose refusals name where they are: ``tools[1]: the server tool ...``), not by these."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class CustomTool(BaseModel):
    """A tool the model may call (Anthropic's server tools are refused by name)."""

    model_config = ConfigDict(extra="allow")
    type: Literal["custom"] | None = None
    name: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")
    description: str | None = None
    input_schema: dict[str, Any] = Field(description="the JSON Schema of the tool's input")


class ToolChoiceAuto(BaseModel):
    """Call tools or answer in text."""

    model_config = ConfigDict(extra="allow")
    type: Literal["auto"]
    disable_parallel_tool_use: bool | None = None


class ToolChoiceAny(ToolChoiceAuto):
    """Call at least one of the tools (there must be some)."""

    type: Literal["any"]  # type: ignore[assignment]


class ToolChoiceTool(ToolChoiceAuto):
    """Call the tool ``name`` (one of the tools)."""

    type: Literal["tool"]  # type: ignore[assignment]
    name: str


class ToolChoiceNone(BaseModel):
    """Answer in text: the tools are not offered."""

    model_config = ConfigDict(extra="allow")
    type: Literal["none"]


ToolChoiceParam = ToolChoiceAuto | ToolChoiceAny | ToolChoiceTool | ToolChoiceNone


class JSONOutputFormat(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["json_schema"]
    schema_: dict[str, Any] = Field(alias="schema")


class OutputConfig(BaseModel):
    model_config = ConfigDict(extra="allow")
    format: JSONOutputFormat | None = Field(
        default=None, description="structured output: the answer is one JSON text block "
        "that fits the schema")
