"""Port: how a conversation reaches the service and a reply comes back."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from voigpt.domain.values import AccessToken, Conversation

if TYPE_CHECKING:
    from voigpt.domain.retry import Deadline


class ChatTransport(Protocol):
    """Sends one completion request.

    ``send`` returns the reply text, or raises a ``voigpt.domain.errors.VoiGptError``:
    never an exception of the library underneath. No wait may outlast ``deadline``.
    """

    def send(
        self, conversation: Conversation, token: AccessToken, *, deadline: Deadline | None = None
    ) -> str:
        ...


class AsyncChatTransport(Protocol):
    """``ChatTransport`` for asyncio: the same contract, awaited."""

    async def send(
        self, conversation: Conversation, token: AccessToken, *, deadline: Deadline | None = None
    ) -> str:
        ...
