"""Anthropic's Messages API for ``voigpt serve``: the request models that check
``POST /v1/messages`` and ``POST /v1/messages/count_tokens``, and the models that describe
their answers and errors in the OpenAPI document (the answers are built as plain dicts in
``entrypoints.anthropic_format``).

The messages are checked by the domain's own rules (``Conversation.from_dicts``: text
only, text blocks joined, no tool use), in Anthropic's shape: the roles are ``user`` and
``assistant``, and the system prompt is the top-level ``system`` (a string or text blocks).
``max_tokens`` is required, as Anthropic requires it, then ignored, as are
``stop_sequences``, ``temperature``, ``top_k``, ``top_p`` and ``metadata``; non-empty
``tools`` and image blocks are refused by name. Unknown parameters are ignored, as many
clients send their own.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator

from voigpt.domain.errors import InvalidInput
from voigpt.domain.values import Conversation, Message, Role
from voigpt.entrypoints.server.protocol import conversation_of

_ROLES = ("user", "assistant")


class TextBlock(BaseModel):
    """A text block; its other keys (``cache_control``, ``citations``) are ignored."""

    model_config = ConfigDict(extra="allow")
    type: Literal["text"]
    text: str


class InputMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["user", "assistant"]
    content: str | Annotated[list[TextBlock], Field(min_length=1)] = Field(
        description="a string, or text blocks (other blocks, images included, are refused)"
    )


def _conversation(value: object) -> Conversation:
    """Anthropic's messages, checked by the domain's rules; a ``ValueError`` names the
    message (``messages[1].content[0]: a part with type 'image' is not supported...``)."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            role = item.get("role") if isinstance(item, dict) else None
            if isinstance(role, str) and role not in _ROLES:
                raise ValueError(f"messages[{index}]: 'role' must be 'user' or 'assistant', "
                                 f"got {role[:40]!r} (the system prompt is the 'system' "
                                 "parameter)")
    return conversation_of(value)


Messages = Annotated[
    Conversation,
    PlainValidator(
        _conversation,
        json_schema_input_type=Annotated[list[InputMessage], Field(min_length=1)],
    ),
]
Ratio = Annotated[float, Field(ge=0, le=1)]


class ToolChoice(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["auto", "none"] = Field(description="voigpt.com calls no tools")


class CountTokensRequest(BaseModel):
    """What ``count_tokens`` reads: the messages, the system prompt and the model."""

    model_config = ConfigDict(extra="allow", arbitrary_types_allowed=True)

    model: str = Field(description="an id the server accepts (GET /v1/models); the answer "
                       "names the model that served it")
    messages: Messages
    system: str | list[TextBlock] | None = None
    tools: Annotated[list[Any], Field(max_length=0)] | None = Field(
        default=None, description="voigpt.com does not support tool calls"
    )
    tool_choice: ToolChoice | None = None

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


class TextContent(BaseModel):
    type: Literal["text"]
    text: str


class Usage(BaseModel):
    input_tokens: int
    output_tokens: int


class AnthropicMessage(BaseModel):
    """The answer; with ``stream: true``, Server-Sent Events instead: ``message_start``,
    ``content_block_start``, ``ping``, ``content_block_delta``, ``content_block_stop``,
    ``message_delta``, ``message_stop``. Usage counts are an estimate."""

    id: str
    type: Literal["message"]
    role: Literal["assistant"]
    model: str
    content: list[TextContent]
    stop_reason: Literal["end_turn"]
    stop_sequence: None
    usage: Usage


class TokenCount(BaseModel):
    input_tokens: int


class AnthropicErrorDetail(BaseModel):
    type: str
    message: str


class AnthropicError(BaseModel):
    type: Literal["error"]
    error: AnthropicErrorDetail
