"""The emulator's deterministic answer to a conversation (pure, no I/O)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

REPLY_PREFIX = "[voigpt emulator] "
NO_USER_MESSAGE = f"{REPLY_PREFIX}No user message."


class MessageLike(Protocol):
    """Any object with ``role`` and ``content`` attributes (e.g. a domain ``Message``)."""

    @property
    def role(self) -> object: ...

    @property
    def content(self) -> object: ...


def _role_and_content(message: Mapping[str, object] | MessageLike) -> tuple[object, object]:
    if isinstance(message, Mapping):
        return message.get("role"), message.get("content")
    return message.role, message.content


def _is_user(role: object) -> bool:
    value = getattr(role, "value", role)
    return value == "user"


def reply_for(messages: Sequence[Mapping[str, object] | MessageLike]) -> str:
    """The text the emulator answers to ``messages``.

    ``f"[voigpt emulator] You said: {last_user_content}"``, or
    ``"[voigpt emulator] No user message."`` when no message has the role ``"user"``.
    Accepts ``{"role": ..., "content": ...}`` mappings or objects with those attributes.
    """
    for message in reversed(messages):
        role, content = _role_and_content(message)
        if _is_user(role):
            return f"{REPLY_PREFIX}You said: {content}"
    return NO_USER_MESSAGE
