"""voigpt: a client for voigpt.com's chat protocol, with a g4f-compatible ``VoiGpt``.

Everything listed in ``__all__`` is public. Names load lazily, so ``import voigpt`` stays
cheap for services and the CLI; ``from voigpt import X`` works as usual.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "VoiGpt": "voigpt.adapters.g4f",
    "Client": "voigpt.client",
    "Container": "voigpt.container",
    "build_container": "voigpt.container",
    "Settings": "voigpt.config",
    "CompleteChat": "voigpt.domain.complete_chat",
    "AccessToken": "voigpt.domain.values",
    "Completion": "voigpt.domain.values",
    "Conversation": "voigpt.domain.values",
    "Message": "voigpt.domain.values",
    "Role": "voigpt.domain.values",
    **{
        name: "voigpt.domain.errors"
        for name in (
            "VoiGptError",
            "InvalidInput",
            "InvalidMessages",
            "InvalidProxy",
            "InvalidConfig",
            "TokenUnavailable",
            "AccessRejected",
            "RateLimited",
            "ServiceUnavailable",
            "ConnectionFailed",
            "TimedOut",
            "MalformedReply",
            "ReplyTooLarge",
            "Blocked",
            "UnexpectedStatus",
            "UntrustedCertificate",
        )
    },
}

__all__ = [
    "AccessRejected",
    "AccessToken",
    "Blocked",
    "Client",
    "CompleteChat",
    "Completion",
    "ConnectionFailed",
    "Container",
    "Conversation",
    "InvalidConfig",
    "InvalidInput",
    "InvalidMessages",
    "InvalidProxy",
    "MalformedReply",
    "Message",
    "RateLimited",
    "ReplyTooLarge",
    "Role",
    "ServiceUnavailable",
    "Settings",
    "TimedOut",
    "TokenUnavailable",
    "UnexpectedStatus",
    "UntrustedCertificate",
    "VoiGpt",
    "VoiGptError",
    "__version__",
    "build_container",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'voigpt' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:
    from voigpt.adapters.g4f import VoiGpt
    from voigpt.client import Client
    from voigpt.config import Settings
    from voigpt.container import Container, build_container
    from voigpt.domain.complete_chat import CompleteChat
    from voigpt.domain.errors import (
        AccessRejected,
        Blocked,
        ConnectionFailed,
        InvalidConfig,
        InvalidInput,
        InvalidMessages,
        InvalidProxy,
        MalformedReply,
        RateLimited,
        ReplyTooLarge,
        ServiceUnavailable,
        TimedOut,
        TokenUnavailable,
        UnexpectedStatus,
        UntrustedCertificate,
        VoiGptError,
    )
    from voigpt.domain.values import AccessToken, Completion, Conversation, Message, Role
