"""The server's request and response models: the OpenAPI document, and the validation of
a chat completion request.

The request is checked here, once: the messages by the domain's own rules
(``Conversation.from_dicts``: roles, text parts, earlier tool calls and results written as
text), the other parameters by their OpenAI types. ``tools``, ``tool_choice``,
``parallel_tool_calls`` and ``response_format`` are read by the domain's own reader
(``ChatCompletionRequest.output_spec``: ``domain.tools.openai``), so each refusal names
where it is (``tools[0].function.parameters``); their models here only describe them.
Parameters that only tune sampling are accepted and ignored; those that would change the
shape of the answer in a way the site cannot give are refused by name (``errors.py``).
Unknown parameters are ignored, as many OpenAI clients send their own. Responses are built
as plain dicts (``entrypoints.openai_format``); their models here only describe them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator

from voigpt.domain.errors import InvalidInput
from voigpt.domain.tools import OutputSpec
from voigpt.domain.tools.openai import output_spec
from voigpt.domain.values import Conversation
from voigpt.entrypoints.server.chat_protocol_tools import (
    Choice,
    Content,
    Format,
    ToolCall,
    ToolCallsMessage,
    ToolMessage,
    Tools,
)


class ChatMessage(BaseModel):
    """What a message may be. ``developer`` is sent as ``system``; ``name`` is not sent."""

    model_config = ConfigDict(extra="forbid")
    role: Literal["system", "user", "assistant", "developer"]
    content: Content
    name: str = Field(default="", description="accepted, not sent (the site has no field)")


Message = ChatMessage | ToolCallsMessage | ToolMessage


def conversation_of(value: object) -> Conversation:
    """Messages checked by the domain's rules, a refusal as the ``ValueError`` pydantic
    reports (naming the message: ``messages[1].role: ...``)."""
    try:
        return Conversation.from_dicts(value)
    except InvalidInput as exc:
        raise ValueError(str(exc)) from None


Messages = Annotated[
    Conversation,
    PlainValidator(
        conversation_of,
        json_schema_input_type=Annotated[list[Message], Field(min_length=1)],
    ),
]


class StreamOptions(BaseModel):
    include_usage: bool | None = None


Ratio = Annotated[float, Field(ge=0, le=2)]
Penalty = Annotated[float, Field(ge=-2, le=2)]


class ChatCompletionRequest(BaseModel):
    """OpenAI's request. Sampling parameters are accepted and ignored (the site has none)."""

    model_config = ConfigDict(extra="allow", arbitrary_types_allowed=True)

    messages: Messages
    model: str | None = Field(default=None, description="default gpt-3.5-turbo")
    stream: bool | None = False
    stream_options: StreamOptions | None = None
    n: Annotated[int, Field(ge=1, le=1)] | None = Field(
        default=None, description="only 1: the site gives one answer"
    )
    response_format: Format = Field(
        default=None, description="json_object or json_schema: the model is asked for JSON, "
        "which is checked (against the schema) and repaired once")
    logprobs: Literal[False] | None = Field(default=None, description="not available")
    top_logprobs: Annotated[int, Field(ge=0, le=0)] | None = None
    tools: Tools = Field(
        default=None, description="functions the model may call: described to it in the "
        "prompt, its calls read back, checked against their schemas and repaired once")
    tool_choice: Choice = None
    parallel_tool_calls: bool | None = None
    functions: Annotated[list[Any], Field(max_length=0)] | None = Field(
        default=None, description="deprecated: send tools")
    function_call: Literal["none", "auto"] | None = Field(
        default=None, description="deprecated: send tool_choice")
    # Accepted and ignored.
    temperature: Ratio | None = None
    top_p: Annotated[float, Field(ge=0, le=1)] | None = None
    max_tokens: Annotated[int, Field(ge=1)] | None = None
    max_completion_tokens: Annotated[int, Field(ge=1)] | None = None
    stop: str | Annotated[list[str], Field(max_length=4)] | None = None
    presence_penalty: Penalty | None = None
    frequency_penalty: Penalty | None = None
    logit_bias: dict[str, float] | None = None
    seed: int | None = None
    user: str | None = None
    store: bool | None = None
    metadata: dict[str, str] | None = None
    reasoning_effort: str | None = None
    service_tier: str | None = None

    def output_spec(self) -> OutputSpec | None:
        """The tools and format asked for; None (at once) when nothing is: the text path.
        An ``InvalidInput`` names the parameter (a 400, ``errors.from_voigpt``)."""
        if self.tools is None and self.response_format is None and self.tool_choice is None:
            return None
        return output_spec(self.tools, self.tool_choice, self.response_format,
                           self.parallel_tool_calls)


class Error(BaseModel):
    message: str
    type: str
    param: str | None
    code: str | None


class ErrorResponse(BaseModel):
    error: Error


class AssistantMessage(BaseModel):
    role: Literal["assistant"]
    content: str | None = Field(description="null when the model called tools")
    refusal: None = None
    tool_calls: list[ToolCall] | None = Field(
        default=None, description="only when the model called tools (ids call_...)")


class Answer(BaseModel):
    index: int
    message: AssistantMessage
    finish_reason: Literal["stop", "tool_calls"]
    logprobs: None


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    """The answer; with ``stream: true``, Server-Sent Events of ``chat.completion.chunk``
    objects and ``data: [DONE]`` instead."""

    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[Answer]
    usage: Usage
    system_fingerprint: None = None


class Model(BaseModel):
    id: str
    object: Literal["model"]
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"]
    data: list[Model]


class Health(BaseModel):
    status: str
    # Only in an unready answer: the kind of failure, never text the site sent.
    reason: str | None = None
    error: str | None = None
    code: str | None = None


def describe(status: int, what: str) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": what}
