"""Anthropic's Messages API for ``voigpt serve``: the request models that check
``POST /v1/messages`` and ``POST /v1/messages/count_tokens``, and the models that describe
their answers and errors in the OpenAPI document (the answers are built as plain dicts in
``entrypoints.anthropic_format``).

The messages are checked by the domain's own rules (``Conversation.from_dicts``: text
only, text blocks joined), in Anthropic's shape: the roles are ``user`` and
``assistant``, and the system prompt is the top-level ``system`` (a string or text blocks).
``tool_use`` and ``tool_result`` blocks are written out as text
(``entrypoints.anthropic_tools``), which also reads ``tools``, ``tool_choice`` and
``output_config.format`` (``spec()``), refusing server tools by name. ``max_tokens`` is
required, as Anthropic requires it, then ignored, as are ``stop_sequences``,
``temperature``, ``top_k``, ``top_p`` and ``metadata``; image blocks are refused by name.
Unknown parameters are ignored, as many clients send their own.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator

from voigpt.domain.errors import InvalidInput
from voigpt.domain.tools import OutputSpec
from voigpt.domain.values import Conversation, Message, Role
from voigpt.entrypoints import anthropic_history, anthropic_tools
from voigpt.entrypoints.server.anthropic_tool_params import (
    CustomTool,
    JSONOutputFormat,
    OutputConfig,
    ToolChoiceParam,
)
from voigpt.entrypoints.server.protocol import conversation_of

_ROLES = ("user", "assistant")


class TextBlock(BaseModel):
    """A text block; its other keys (``cache_control``, ``citations``) are ignored."""

    model_config = ConfigDict(extra="allow")
    type: Literal["text"]
    text: str


class ToolUseBlock(BaseModel):
    """An earlier call, in an assistant message: sent to the site as text."""

    model_config = ConfigDict(extra="allow")
    type: Literal["tool_use"]
    id: str
    name: str
    input: dict[str, Any]


class ToolResultBlock(BaseModel):
    """A call's result, in a user message: sent to the site as text."""

    model_config = ConfigDict(extra="allow")
    type: Literal["tool_result"]
    tool_use_id: str
    content: str | list[TextBlock] = ""
    is_error: bool = False


class UserMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["user"]
    content: str | Annotated[list[TextBlock | ToolResultBlock], Field(min_length=1)] = Field(
        description="a string, or text and tool_result blocks (other blocks, images "
                    "included, are refused)"
    )


class AssistantMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["assistant"]
    content: str | Annotated[list[TextBlock | ToolUseBlock], Field(min_length=1)] = Field(
        description="a string, or text and tool_use blocks"
    )


def _conversation(value: object) -> Conversation:
    """Anthropic's messages, checked by the domain's rules; a ``ValueError`` names the
    message (``messages[1].content[0]: a part with type 'image' is not supported...``)."""
    tools = False
    if isinstance(value, list):
        for index, item in enumerate(value):
            role = item.get("role") if isinstance(item, dict) else None
            if isinstance(role, str) and role not in _ROLES:
                raise ValueError(f"messages[{index}]: 'role' must be 'user' or 'assistant', "
                                 f"got {role[:40]!r} (the system prompt is the 'system' "
                                 "parameter)")
            if not tools and role is not None and type(item.get("content")) is list:
                tools = anthropic_history.has_tool_blocks(item["content"])
    if not tools:
        return conversation_of(value)
    try:
        return anthropic_history.conversation(value)  # type: ignore[arg-type]
    except InvalidInput as exc:
        raise ValueError(str(exc)) from None


Messages = Annotated[
    Conversation,
    PlainValidator(
        _conversation,
        json_schema_input_type=Annotated[list[UserMessage | AssistantMessage],
                                         Field(min_length=1)],
    ),
]
Ratio = Annotated[float, Field(ge=0, le=1)]


def _as_sent(value: object) -> object:
    return value


# Parameters read by ``anthropic_tools`` as they were sent (so that its refusals name
# where they are), documented as the shapes accepted.
SentTools = Annotated[Any, PlainValidator(_as_sent, json_schema_input_type=list[CustomTool])]
SentChoice = Annotated[Any, PlainValidator(_as_sent, json_schema_input_type=ToolChoiceParam)]
SentConfig = Annotated[Any, PlainValidator(_as_sent, json_schema_input_type=OutputConfig)]
SentFormat = Annotated[Any, PlainValidator(_as_sent,
                                           json_schema_input_type=JSONOutputFormat)]


class CountTokensRequest(BaseModel):
    """What ``count_tokens`` reads: the messages, the system prompt and the model."""

    model_config = ConfigDict(extra="allow", arbitrary_types_allowed=True)

    model: str = Field(description="an id the server accepts (GET /v1/models); the answer "
                       "names the model that served it")
    messages: Messages
    system: str | list[TextBlock] | None = None
    tools: SentTools | None = None
    tool_choice: SentChoice | None = None
    output_config: SentConfig | None = None
    output_format: SentFormat | None = Field(
        default=None, description="the older beta's place of output_config.format")

    def spec(self) -> OutputSpec | None:
        """The tools and format asked for; None (at once) when nothing is."""
        if (self.tools is None and self.tool_choice is None and self.output_config is None
                and self.output_format is None):
            return None
        fmt, where = self.output_format, "output_format"
        if self.output_config is not None:
            if not isinstance(self.output_config, dict):
                raise InvalidInput("output_config must be an object")
            if self.output_config.get("format") is not None:
                fmt, where = self.output_config["format"], "output_config.format"
        return anthropic_tools.output_spec(self.tools, self.tool_choice, fmt, where)

    def conversation(self) -> Conversation:
        """The messages, after the system prompt (its blocks joined as text parts are)."""
        system = self.system
        if isinstance(system, list):
            system = "".join(block.text for block in system)
        if not system:
            return self.messages
        try:
            opening = Message(role=Role.SYSTEM, content=system)
        except InvalidInput as exc:
            raise InvalidInput(f"system: {exc}") from None
        return Conversation((opening, *self.messages.messages))


class MessagesRequest(CountTokensRequest):
    """Anthropic's request. Sampling parameters are accepted and ignored (the site has none)."""

    max_tokens: Annotated[int, Field(ge=1)] = Field(
        description="required, as Anthropic requires it; ignored (the site has no limit)"
    )
    stream: bool | None = False
    # Accepted and ignored.
    stop_sequences: list[str] | None = None
    temperature: Ratio | None = None
    top_k: Annotated[int, Field(ge=0)] | None = None
    top_p: Ratio | None = None
    metadata: dict[str, Any] | None = None
