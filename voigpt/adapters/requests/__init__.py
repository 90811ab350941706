"""The HTTP adapters, built on requests: one shared keep-alive session per container."""

from voigpt.adapters.requests.endpoint import HttpEndpoint
from voigpt.adapters.requests.session import build_session
from voigpt.adapters.requests.token_source import RequestsTokenSource
from voigpt.adapters.requests.transport import RequestsChatTransport

__all__ = [
    "HttpEndpoint",
    "RequestsChatTransport",
    "RequestsTokenSource",
    "build_session",
]
