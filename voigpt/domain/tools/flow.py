"""The rules of a completion that asks for tools or a format, over the plain completion
rules (``steps.completion_steps``), still sans I/O:

1. The instructions (``prompt.instructions``) go at the end of the conversation.
2. The reply is read (``replies.read``). A usable one is the answer.
3. An unusable one is repaired once: the model's reply and a short, specific correction
   are sent back (a second upstream request, under the same deadline), and the second
   reply is read the same way. If it is unusable too, ``InvalidModelReply`` says why.
"""

from __future__ import annotations

from collections.abc import Callable, Generator

import attrs

from voigpt.domain.errors import InvalidModelReply
from voigpt.domain.steps import Effect, Steps
from voigpt.domain.tools.prompt import instructions
from voigpt.domain.tools.replies import Problem, Reading, read
from voigpt.domain.tools.values import OutputSpec
from voigpt.domain.values import Conversation, Message, Role


@attrs.frozen
class Repair:
    """The reply did not fit (``detail`` says why): it is about to be repaired."""

    detail: str


def with_instructions(conversation: Conversation, spec: OutputSpec) -> Conversation:
    text = instructions(spec)
    if not text:
        return conversation
    return Conversation((*conversation.messages, Message(Role.SYSTEM, text)))


def as_sent(conversation: Conversation, spec: OutputSpec | None) -> Conversation:
    """The conversation as the model is first given it (what usage estimates count)."""
    return conversation if spec is None else with_instructions(conversation, spec)


def output_steps(
    conversation: Conversation, spec: OutputSpec, send: Callable[[Conversation], Steps],
    new_id: Callable[[], str],
) -> Generator[Effect | Repair, object, Reading]:
    prompted = with_instructions(conversation, spec)
    reply = yield from send(prompted)
    reading = read(reply, spec, new_id)
    if isinstance(reading, Reading):
        return reading
    yield Repair(reading.detail)
    repaired = Conversation((*prompted.messages, Message(Role.ASSISTANT, reply),
                             Message(Role.USER, reading.correction)))
    again = yield from send(repaired)
    second = read(again, spec, new_id)
    if isinstance(second, Problem):
        raise InvalidModelReply(f"the model's reply did not fit what was asked, even after "
                                f"one correction: {second.detail}")
    return second
