"""The core: value objects, errors and the completion use case. No I/O happens here."""

from voigpt.domain.complete_chat import CompleteChat
from voigpt.domain.models import DEFAULT_MODEL
from voigpt.domain.values import (
    AccessToken,
    Completion,
    Conversation,
    Message,
    Role,
)

__all__ = [
    "DEFAULT_MODEL",
    "AccessToken",
    "CompleteChat",
    "Completion",
    "Conversation",
    "Message",
    "Role",
]
