"""The request model of OpenAI's Responses API (``POST /v1/responses``):
the OpenAPI document, and the validation of its request (``responses.py`` serves it; the
answers are built as plain dicts in ``entrypoints.responses_format`` and, for tools and
formats, ``entrypoints.responses_tools``).

``input`` is a string (one user message) or a list of items (``entrypoints.
responses_input``): messages with text parts, and an earlier answer's ``function_call``
items and their ``function_call_output``. ``instructions`` is the system message.
``tools`` (flat functions), ``tool_choice``, ``parallel_tool_calls`` and ``text.format``
(``json_object`` or a flat ``json_schema``) are checked by ``responses_tools.spec_of``,
which refuses hosted tools by name. What only tunes sampling or reasoning is accepted
and ignored; ``include`` naming anything this server cannot give, and ``background``,
are refused. Unknown parameters are ignored.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, PlainValidator

from voigpt.entrypoints.responses_input import Items, Turns, read_input

__all__ = ["ID_PATTERN", "Items", "ResponseRequest", "Turns"]

# Items that only an answer of this server's kinds holds: asking for them adds nothing.
Includable = Literal[
    "reasoning.encrypted_content", "file_search_call.results", "web_search_call.results",
    "web_search_call.action.sources", "message.input_image.image_url",
    "computer_call_output.output.image_url", "code_interpreter_call.outputs",
]
HARMLESS_INCLUDES = get_args(Includable)
ID_PATTERN = r"^resp_[A-Za-z0-9_-]{1,100}$"


class InputText(BaseModel):
    type: Literal["input_text", "output_text"]
    text: str


class InputMessage(BaseModel):
    type: Literal["message"] | None = None
    role: Literal["user", "system", "developer", "assistant"]
    content: str | list[InputText]


class FunctionCall(BaseModel):
    type: Literal["function_call"]
    call_id: str
    name: str
    arguments: str
    id: str | None = None
    status: Literal["in_progress", "completed", "incomplete"] | None = None


class FunctionCallOutput(BaseModel):
    type: Literal["function_call_output"]
    call_id: str
    output: str | list[InputText]
    id: str | None = None


Input = Annotated[Items, PlainValidator(read_input, json_schema_input_type=str | Annotated[
    list[InputMessage | FunctionCall | FunctionCallOutput], Field(min_length=1)])]


class FunctionTool(BaseModel):
    """A function the model may call (flat, unlike the chat route's tools)."""

    type: Literal["function"]
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")]
    description: str | None = None
    parameters: dict[str, Any] | None = Field(default=None, description="a JSON Schema")
    strict: bool | None = None


class NamedFunction(BaseModel):
    type: Literal["function"]
    name: str


class JSONSchemaFormat(BaseModel):
    type: Literal["json_schema"]
    name: str
    schema_: dict[str, Any] = Field(alias="schema", description="a JSON Schema")
    description: str | None = None
    strict: bool | None = None


class OtherFormat(BaseModel):
    type: Literal["text", "json_object"]


def _of_type(kind: type, what: object) -> PlainValidator:
    """A value ``responses_tools.spec_of`` reads (and refuses, naming it), documented as
    ``what``: here only its JSON type is checked."""
    def check(value: object) -> object:
        if not isinstance(value, kind):
            raise ValueError(f"must be {'a list' if kind is list else 'an object'}")
        return value
    return PlainValidator(check, json_schema_input_type=what)


def _choice(value: object) -> object:
    if not isinstance(value, (str, dict)):
        raise ValueError("must be 'auto', 'none', 'required' or {'type': 'function', "
                         "'name': ...}")
    return value


class TextOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    format: Annotated[dict[str, Any], _of_type(dict, JSONSchemaFormat | OtherFormat)] | None = (
        Field(default=None, description="text (the default), json_object or json_schema"))
    verbosity: str | None = Field(default=None, description="accepted and ignored")


class ResponseRequest(BaseModel):
    """OpenAI's Responses request."""

    model_config = ConfigDict(extra="allow")

    input: Input
    model: str | None = Field(default=None, description="default gpt-3.5-turbo")
    instructions: str | None = Field(default=None, description="the system message")
    stream: bool | None = False
    store: bool | None = Field(default=True, description="keep the response, for "
                               "previous_response_id and GET /v1/responses/{id}")
    previous_response_id: Annotated[str, Field(pattern=ID_PATTERN)] | None = None
    tools: Annotated[list[Any], _of_type(list, list[FunctionTool])] | None = Field(
        default=None, description="functions only: hosted tools are refused by name")
    tool_choice: Annotated[str | dict[str, Any], PlainValidator(
        _choice, json_schema_input_type=Literal["auto", "none", "required"] | NamedFunction,
    )] | None = None
    text: TextOptions | None = None
    include: list[Annotated[str, PlainValidator(
        lambda v: _include(v), json_schema_input_type=Includable)]] | None = None
    background: Literal[False] | None = Field(default=None, description="not supported")
    conversation: None = Field(default=None, description="not supported: use "
                               "previous_response_id")
    # Accepted and ignored.
    temperature: Annotated[float, Field(ge=0, le=2)] | None = None
    top_p: Annotated[float, Field(ge=0, le=1)] | None = None
    max_output_tokens: Annotated[int, Field(ge=1)] | None = None
    reasoning: dict[str, Any] | None = None
    metadata: dict[str, str] | None = None
    user: str | None = None
    truncation: Literal["auto", "disabled"] | None = None
    service_tier: str | None = None
    parallel_tool_calls: bool | None = None

    def options(self) -> dict[str, Any]:
        """What the response object echoes."""
        return {name: getattr(self, name) for name in (
            "instructions", "max_output_tokens", "parallel_tool_calls", "previous_response_id",
            "store", "temperature", "top_p", "user", "metadata")}


def _include(value: object) -> str:
    if not isinstance(value, str) or value not in HARMLESS_INCLUDES:
        raise ValueError(f"{str(value)[:60]!r} cannot be included by this server")
    return value
