"""The request and response models of legacy ``POST /v1/completions``: the OpenAPI
document, and the validation of its request (``legacy_completions.py`` serves it).

``prompt`` is a string, or a list of one string, and becomes one user message. What only
tunes sampling is type-checked and ignored, as on the chat route; what would change the
answer's shape is refused by name (``errors.py``): ``n`` other than 1, ``echo``,
``logprobs``, ``suffix``, and ``tools``, ``tool_choice`` and ``response_format``, which
this route never had (the chat routes emulate them). Unknown parameters are ignored.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator

from voigpt.domain.errors import InvalidInput
from voigpt.domain.values import Conversation
from voigpt.entrypoints.server.protocol import Penalty, Ratio, StreamOptions, Usage


def _conversation(value: object) -> Conversation:
    """The prompt as one user message."""
    if isinstance(value, list):
        if len(value) != 1:
            raise ValueError("must be a string or a list of one string: voigpt.com answers "
                             f"one prompt per request, got a list of {len(value)}")
        value = value[0]
    if not isinstance(value, str):
        raise ValueError("must be a string or a list of one string (token arrays are not "
                         f"supported), got {type(value).__name__}")
    try:
        return Conversation.question(value)
    except InvalidInput as exc:
        raise ValueError(str(exc).rpartition("'content' ")[2]) from None


Prompt = Annotated[
    Conversation,
    PlainValidator(
        _conversation,
        json_schema_input_type=str | Annotated[list[str], Field(min_length=1, max_length=1)],
    ),
]


class CompletionRequest(BaseModel):
    """OpenAI's legacy completion request."""

    model_config = ConfigDict(extra="allow", arbitrary_types_allowed=True)

    prompt: Prompt
    model: str | None = Field(default=None, description="default gpt-3.5-turbo")
    stream: bool | None = False
    stream_options: StreamOptions | None = None
    n: Annotated[int, Field(ge=1, le=1)] | None = Field(
        default=None, description="only 1: the site gives one answer"
    )
    echo: Literal[False] | None = Field(default=None, description="not supported")
    logprobs: None = Field(default=None, description="not available")
    suffix: Literal[""] | None = Field(default=None, description="not supported")
    # Not on this route (OpenAI's legacy completions have none): the chat routes take them.
    tools: None = Field(default=None, description="not on this route")
    tool_choice: None = Field(default=None, description="not on this route")
    response_format: None = Field(default=None, description="not on this route")
    # Accepted and ignored.
    best_of: Annotated[int, Field(ge=1)] | None = None
    max_tokens: Annotated[int, Field(ge=0)] | None = None
    temperature: Ratio | None = None
    top_p: Annotated[float, Field(ge=0, le=1)] | None = None
    stop: str | Annotated[list[str], Field(max_length=4)] | None = None
    presence_penalty: Penalty | None = None
    frequency_penalty: Penalty | None = None
    logit_bias: dict[str, float] | None = None
    seed: int | None = None
    user: str | None = None


class TextChoice(BaseModel):
    text: str
    index: int
    logprobs: None
    finish_reason: Literal["stop"]


class TextCompletion(BaseModel):
    """The answer; with ``stream: true``, Server-Sent Events of ``text_completion`` objects
    (the text, then ``finish_reason``, then usage when asked for) and ``data: [DONE]``."""

    id: str
    object: Literal["text_completion"]
    created: int
    model: str
    choices: list[TextChoice]
    usage: Usage
    system_fingerprint: None = None
