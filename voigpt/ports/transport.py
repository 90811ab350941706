"""Port: how a conversation reaches the service and a reply comes back."""

from __future__ import annotations

from typing import Protocol

from voigpt.domain.values import AccessToken, Conversation


class ChatTransport(Protocol):
    """Sends one completion request.

    ``send`` returns the reply text, or raises a ``voigpt.domain.errors.VoiGptError``:
    never an exception of the library underneath.
    """

    def send(self, conversation: Conversation, token: AccessToken) -> str:
        ...
