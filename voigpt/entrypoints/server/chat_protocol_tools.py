"""The models that describe, in the OpenAPI document, the chat route's tools and
structured output: ``tools``, ``tool_choice``, ``response_format``, the earlier tool calls
and results a conversation may hold, and the tool calls of an answer.

They describe; they do not check. ``tools``, ``tool_choice`` and ``response_format`` are
kept as sent (``Tools``, ``Choice``, ``Format``) and read by the domain's reader
(``domain.tools.openai.output_spec``), whose refusals name where the problem is; the
messages by ``Conversation.from_dicts``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator


class TextPart(BaseModel):
    type: Literal["text"]
    text: str


Content = str | Annotated[list[TextPart], Field(min_length=1)]
ToolName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")]


class FunctionCall(BaseModel):
    name: str
    arguments: str = Field(description="the JSON text of the arguments")


class ToolCall(BaseModel):
    id: str
    type: Literal["function"]
    function: FunctionCall


class ToolCallsMessage(BaseModel):
    """An assistant's earlier tool calls, sent as the JSON the model is asked to call
    tools with (after its text, if any)."""

    model_config = ConfigDict(extra="forbid")
    role: Literal["assistant"]
    content: Content | None
    tool_calls: Annotated[list[ToolCall], Field(min_length=1)]
    name: str = ""
    refusal: str | None = None


class ToolMessage(BaseModel):
    """A tool's result, sent as a user message naming the call it answers."""

    model_config = ConfigDict(extra="forbid")
    role: Literal["tool"]
    tool_call_id: str
    content: Content


class FunctionDefinition(BaseModel):
    name: ToolName
    description: str | None = None
    parameters: dict[str, Any] | None = Field(
        default=None, description="the JSON Schema of the arguments (an object)")
    strict: bool | None = None


class FunctionTool(BaseModel):
    type: Literal["function"] = Field(description="only functions: the site runs no tools")
    function: FunctionDefinition


class NamedFunction(BaseModel):
    name: ToolName


class NamedToolChoice(BaseModel):
    type: Literal["function"]
    function: NamedFunction = Field(description="one of the tools")


class TextFormat(BaseModel):
    type: Literal["text"]


class JsonObjectFormat(BaseModel):
    type: Literal["json_object"]


class JsonSchema(BaseModel):
    name: str = "response"
    description: str | None = None
    schema_: dict[str, Any] = Field(alias="schema", description="a JSON Schema")
    strict: bool | None = None


class JsonSchemaFormat(BaseModel):
    type: Literal["json_schema"]
    json_schema: JsonSchema


def _as_sent(value: object) -> object:
    """Kept as sent: ``output_spec`` reads it, naming where a problem is."""
    return value


def _described(kind: object) -> Any:
    return PlainValidator(_as_sent, json_schema_input_type=kind)


Tools = Annotated[Any, _described(list[FunctionTool] | None)]
Choice = Annotated[Any, _described(Literal["none", "auto", "required"] | NamedToolChoice | None)]
Format = Annotated[Any, _described(TextFormat | JsonObjectFormat | JsonSchemaFormat | None)]
