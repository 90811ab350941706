"""One call's input and output, shared by both drivers of ``complete_chat``.

What a caller may pass (``Messages``, ``Asked``) is checked here and turned into the rules
to drive (``prepare``), before any I/O; what the rules return becomes the ``Completion``.
Neither depends on whether the ports are awaited, so the sync and the async use case
call the same code.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Mapping, Sequence
from typing import TYPE_CHECKING

import attrs

from voigpt.domain.models import resolve_model
from voigpt.domain.retry import Deadline
from voigpt.domain.steps import Effect, Steps, completion_steps
from voigpt.domain.values import AccessToken, Completion, Conversation

if TYPE_CHECKING:  # the tools' rules are imported when a call asks for tools or a format
    from voigpt.domain.complete_chat import AsyncCompleteChat, CompleteChat
    from voigpt.domain.tools.flow import Repair
    from voigpt.domain.tools.replies import Reading

Messages = Conversation | Sequence[Mapping[str, object]]
Run = Generator["Effect | Repair", object, "str | Reading"]


def new_call_id() -> str:
    """``call_`` and 24 random hex digits, as OpenAI's call ids look."""
    return f"call_{os.urandom(12).hex()}"  # what secrets.token_hex does, without its import


@attrs.frozen
class Asked:
    """What a caller asked of the answer besides text, in OpenAI's shapes or as the
    domain's values (``voigpt.domain.tools``); all None: plain text."""

    tools: object = None
    tool_choice: object = None
    response_format: object = None
    parallel_tool_calls: object = None


PLAIN = Asked()


def prepare(
    use_case: CompleteChat | AsyncCompleteChat,
    messages: Messages,
    model: str | None,
    access_token: str | AccessToken | None,
    asked: Asked,
) -> tuple[Run, str, Deadline]:
    """The rules for one call, once its input is checked (before any I/O). A configured
    token (``use_case.access_token``, e.g. ``VOIGPT_ACCESS_TOKEN``) is used as given and
    never replaced, like a per-call ``access_token=``; ``use_case.deadline`` is the most
    seconds one call may take, retries and waits included."""
    conversation = (
        messages if isinstance(messages, Conversation) else Conversation.from_dicts(messages)
    )
    resolved = resolve_model(model)
    explicit = use_case.access_token
    if isinstance(access_token, AccessToken):
        explicit = access_token
    elif access_token is not None and access_token != "":
        explicit = AccessToken.parse(access_token)
    spec = None
    if asked is not PLAIN:
        from voigpt.domain.tools.openai import output_spec

        spec = output_spec(asked.tools, asked.tool_choice, asked.response_format,
                           asked.parallel_tool_calls)
    deadline = Deadline.after(use_case.clock, use_case.deadline)

    def send(conversation: Conversation) -> Steps:
        return completion_steps(conversation, explicit, use_case.retry, deadline,
                                use_case.jitter)

    if spec is None:  # the plain path: nothing more to do
        return send(conversation), resolved, deadline
    from voigpt.domain.tools.flow import output_steps

    return output_steps(conversation, spec, send, use_case.new_id), resolved, deadline


def completion(result: str | Reading, model: str) -> Completion:
    """The ``Completion`` for what the rules returned: the reply text, or the tools' reading."""
    if isinstance(result, str):
        return Completion(text=result, model=model)
    return Completion(text=result.text, model=model, tool_calls=result.calls, data=result.data)
