"""The request and response models of OpenAI's Responses API (``POST /v1/responses``):
the OpenAPI document, and the validation of its request (``responses.py`` serves it; the
answers are built as plain dicts in ``entrypoints.responses_format``).

``input`` is a string (one user message) or a list of messages: ``{role, content}``, or
``{type: "message", role, content}`` with ``input_text`` parts (``output_text`` for an
assistant's); roles ``user``, ``system``, ``developer``, ``assistant``. ``instructions``
is the system message. What only tunes sampling or reasoning is accepted and ignored;
what would change the answer's shape is refused by name: a non-empty ``tools``,
``text.format`` other than text, ``include`` naming anything this server cannot give,
``background``. Unknown parameters are ignored.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, PlainValidator

Turns = tuple[tuple[str, str], ...]
_ROLES = ("user", "system", "developer", "assistant")
_TEXT_PARTS = ("input_text", "output_text", "text")  # a tuple: a part may hold a dict
# Items that only an answer of this server's kinds holds: asking for them adds nothing.
Includable = Literal[
    "reasoning.encrypted_content", "file_search_call.results", "web_search_call.results",
    "web_search_call.action.sources", "message.input_image.image_url",
    "computer_call_output.output.image_url", "code_interpreter_call.outputs",
]
HARMLESS_INCLUDES = get_args(Includable)
ID_PATTERN = r"^resp_[A-Za-z0-9_-]{1,100}$"


def _turns(value: object) -> Turns:
    """The input as (role, text) turns; a ``ValueError`` says which item is wrong."""
    if isinstance(value, str):
        return (("user", value),)
    if not isinstance(value, list) or not value:
        raise ValueError("must be a string or a non-empty list of messages")
    return tuple(_turn(item, index) for index, item in enumerate(value))


def _turn(item: object, index: int) -> tuple[str, str]:
    if not isinstance(item, dict):
        raise ValueError(f"item {index} must be a message object, got {type(item).__name__}")
    kind = item.get("type")
    if kind not in (None, "message"):
        raise ValueError(f"item {index} has type {str(kind)[:40]!r}: only messages are "
                         "supported (voigpt.com calls no tools)")
    role = item.get("role")
    if role not in _ROLES:
        raise ValueError(f"item {index}: 'role' must be one of {', '.join(_ROLES)}, "
                         f"got {str(role)[:40]!r}")
    content = item.get("content")
    if isinstance(content, str):
        return role, content
    if not isinstance(content, list):
        raise ValueError(f"item {index}: 'content' must be a string or a list of text parts")
    texts = []
    for number, part in enumerate(content):
        part_kind = part.get("type") if isinstance(part, dict) else None
        text = part.get("text") if isinstance(part, dict) else None
        if part_kind not in _TEXT_PARTS or not isinstance(text, str):
            raise ValueError(f"item {index}, part {number}: only text parts (input_text, "
                             f"output_text) are supported, got {str(part_kind)[:40]!r}")
        texts.append(text)
    return role, "".join(texts)


class InputText(BaseModel):
    type: Literal["input_text", "output_text"]
    text: str


class InputMessage(BaseModel):
    type: Literal["message"] | None = None
    role: Literal["user", "system", "developer", "assistant"]
    content: str | list[InputText]


Input = Annotated[Turns, PlainValidator(_turns, json_schema_input_type=str | Annotated[
    list[InputMessage], Field(min_length=1)])]


def _text_only(value: object) -> str:
    if value != "text":
        raise ValueError("text.format must be {\"type\": \"text\"}: voigpt.com answers "
                         f"in plain text, not {str(value)[:40]!r}")
    return value


class TextFormat(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Annotated[str, PlainValidator(_text_only, json_schema_input_type=Literal["text"])]


class TextOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    format: TextFormat | None = None
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
    tools: Annotated[list[Any], Field(max_length=0)] | None = Field(
        default=None, description="voigpt.com does not support tool calls")
    tool_choice: Literal["none", "auto"] | None = None
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


class OutputText(BaseModel):
    type: Literal["output_text"]
    text: str
    annotations: list[Any]


class OutputMessage(BaseModel):
    id: str
    type: Literal["message"]
    status: Literal["completed", "in_progress"]
    role: Literal["assistant"]
    content: list[OutputText]


class ResponseUsage(BaseModel):
    input_tokens: int
    output_tokens: int
    total_tokens: int
    input_tokens_details: dict[str, int]
    output_tokens_details: dict[str, int]


class ResponseObject(BaseModel):
    """The answer; with ``stream: true``, Server-Sent Events instead: response.created,
    response.in_progress, response.output_item.added, response.content_part.added,
    response.output_text.delta, response.output_text.done, response.content_part.done,
    response.output_item.done, response.completed. Usage counts are an estimate."""

    id: str
    object: Literal["response"]
    created_at: int
    status: Literal["completed", "in_progress"]
    model: str
    output: list[OutputMessage]
    usage: ResponseUsage | None
    error: None
    incomplete_details: None
    previous_response_id: str | None
    store: bool


class Deleted(BaseModel):
    id: str
    object: Literal["response"]
    deleted: bool


class InputItemList(BaseModel):
    object: Literal["list"]
    data: list[dict[str, Any]]
    first_id: str | None
    last_id: str | None
    has_more: bool

