"""The refusals of ``voigpt serve``'s HTTP layer (connections.py, watch.py, outermost.py):
decided before a request reaches the app, or after the app can no longer answer. Each
closes the connection.
"""

from __future__ import annotations

from voigpt.entrypoints.server.api_error import APIError

_CLOSE = {"Connection": "close"}


def not_http(*, method: bool = False) -> APIError:
    """A head (or a chunked body) the HTTP parser cannot read."""
    message = ("the request method is not one this server knows" if method
               else "the request is not valid HTTP/1.1")
    return APIError(400, message, code="invalid_http_request", headers=_CLOSE)


def head_too_large(cap: int) -> APIError:
    return APIError(431, f"the request line and headers are larger than {cap} bytes",
                    code="request_headers_too_large", headers=_CLOSE)


def too_slow(part: str, seconds: float) -> APIError:
    """``part`` ("head" or "body") did not arrive whole within ``seconds``."""
    return APIError(408, f"the request {part} did not arrive within {seconds:g} seconds",
                    code="request_timeout", headers=_CLOSE)


def shutting_down() -> APIError:
    """The server stopped (its drain timeout passed) before this request had its answer."""
    return APIError(503, "the server is shutting down and could not finish this request",
                    type="server_error", code="server_shutting_down", headers=_CLOSE)


def no_answer() -> APIError:
    """The app ended without answering (a bug): what uvicorn would send as a plain 500."""
    return APIError(500, "internal server error", type="server_error", code="internal_error",
                    headers=_CLOSE)
