"""What ``POST /v1/messages`` and ``POST /v1/messages/count_tokens`` answer, and their
error body, as the OpenAPI document describes them; ``entrypoints.anthropic_format``
builds these shapes as plain dicts."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel


class TextContent(BaseModel):
    type: Literal["text"]
    text: str


class ToolUseContent(BaseModel):
    type: Literal["tool_use"]
    id: str
    name: str
    input: dict[str, Any]


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
    content: list[TextContent | ToolUseContent]
    stop_reason: Literal["end_turn", "tool_use"]
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
