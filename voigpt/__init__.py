"""voigpt: a client for voigpt.com's chat protocol, with a g4f-compatible ``VoiGpt``.

``_EXPORTS`` is the public surface: ``__all__`` and the lazy imports both come from it, so
``import voigpt`` stays cheap and ``from voigpt import X`` works as usual. The
``TYPE_CHECKING`` block repeats it for type checkers; a test keeps the two equal.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_ERRORS = (
    "VoiGptError", "InvalidInput", "InvalidMessages", "InvalidProxy", "InvalidConfig",
    "TokenUnavailable", "AccessRejected", "RateLimited", "ServiceUnavailable",
    "ConnectionFailed", "UntrustedCertificate", "TimedOut", "MalformedReply", "ReplyTooLarge",
    "Blocked", "UnexpectedStatus", "InvalidModelReply",
)
_EXPORTS: dict[str, str] = {
    "Client": "voigpt.client",
    "AsyncClient": "voigpt.async_client",
    "VoiGpt": "voigpt.entrypoints.g4f",
    "Settings": "voigpt.config",
    "Container": "voigpt.container",
    "build_container": "voigpt.container",
    "CompleteChat": "voigpt.domain.complete_chat",
    **dict.fromkeys(("AccessToken", "Completion", "Conversation", "Message", "Role"),
                    "voigpt.domain.values"),
    **dict.fromkeys(_ERRORS, "voigpt.domain.errors"),
    **dict.fromkeys(("Tool", "ToolCall", "ToolChoice", "ResponseFormat"),
                    "voigpt.domain.tools.values"),
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'voigpt' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names only (what ``__all__`` lists), not this module's own machinery."""
    return list(__all__)


if TYPE_CHECKING:
    from voigpt.async_client import AsyncClient as AsyncClient
    from voigpt.client import Client as Client
    from voigpt.config import Settings as Settings
    from voigpt.container import Container as Container
    from voigpt.container import build_container as build_container
    from voigpt.domain.complete_chat import CompleteChat as CompleteChat
    from voigpt.domain.errors import AccessRejected as AccessRejected
    from voigpt.domain.errors import Blocked as Blocked
    from voigpt.domain.errors import ConnectionFailed as ConnectionFailed
    from voigpt.domain.errors import InvalidConfig as InvalidConfig
    from voigpt.domain.errors import InvalidInput as InvalidInput
    from voigpt.domain.errors import InvalidMessages as InvalidMessages
    from voigpt.domain.errors import InvalidModelReply as InvalidModelReply
    from voigpt.domain.errors import InvalidProxy as InvalidProxy
    from voigpt.domain.errors import MalformedReply as MalformedReply
    from voigpt.domain.errors import RateLimited as RateLimited
    from voigpt.domain.errors import ReplyTooLarge as ReplyTooLarge
    from voigpt.domain.errors import ServiceUnavailable as ServiceUnavailable
    from voigpt.domain.errors import TimedOut as TimedOut
    from voigpt.domain.errors import TokenUnavailable as TokenUnavailable
    from voigpt.domain.errors import UnexpectedStatus as UnexpectedStatus
    from voigpt.domain.errors import UntrustedCertificate as UntrustedCertificate
    from voigpt.domain.errors import VoiGptError as VoiGptError
    from voigpt.domain.tools.values import ResponseFormat as ResponseFormat
    from voigpt.domain.tools.values import Tool as Tool
    from voigpt.domain.tools.values import ToolCall as ToolCall
    from voigpt.domain.tools.values import ToolChoice as ToolChoice
    from voigpt.domain.values import AccessToken as AccessToken
    from voigpt.domain.values import Completion as Completion
    from voigpt.domain.values import Conversation as Conversation
    from voigpt.domain.values import Message as Message
    from voigpt.domain.values import Role as Role
    from voigpt.entrypoints.g4f import VoiGpt as VoiGpt
