"""What the OpenAPI document (``/openapi.json``) says beyond the routes' models: every
error each route can answer, the event stream, and the key (Bearer, or x-api-key) when keys
are set."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from voigpt.entrypoints.server.protocol import ErrorResponse, Health


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": description}


KEYED_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _error("No API key, or a wrong one (only when the server has keys)."),
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: _error("No such model.")}
UNREADY: dict[int | str, dict[str, Any]] = {
    503: {"model": Health, "description": "The site did not hand out a token."},
}
COMPLETION_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The completion; with stream: true, Server-Sent Events of "
        "chat.completion.chunk objects ending with data: [DONE].",
        # Each event (OpenAPI's reading of an event stream): its data is a chunk's JSON or [DONE].
        "content": {"text/event-stream": {"schema": {
            "type": "object", "required": ["data"], "properties": {"data": {"type": "string"}},
        }}},
    },
    400: _error("Bad input; param names the parameter (e.g. messages[1].role)."),
    **KEYED_RESPONSES,
    404: _error("No such model."),
    413: _error("The body is larger than the server's cap."),
    429: _error("The site's rate limit (Retry-After passed on) or the server's "
                "concurrency limit (Retry-After set)."),
    499: _error("The client closed the request before the answer (never received)."),
    502: _error("The site failed (refused, malformed, blocked, unreachable)."),
    503: _error("The site is unavailable."),
    504: _error("The deadline passed."),
}


def document(app: FastAPI, *, keyed: bool, documented: Sequence[APIRoute] = ()) -> None:
    """Generate the document once, on first request, with the Bearer scheme on ``/v1``
    routes when the server has keys. ``documented`` are routes served outside FastAPI's
    router (the completion endpoint), described by a route of FastAPI's all the same."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, summary=app.summary,
                routes=[*documented, *app.routes],
            )
            for operations in schema["paths"].values():  # FastAPI's 422: we answer 400
                for operation in operations.values():
                    operation.get("responses", {}).pop("422", None)
            for unused in ("HTTPValidationError", "ValidationError"):
                schema.get("components", {}).get("schemas", {}).pop(unused, None)
            if keyed:
                components = schema.setdefault("components", {})
                components["securitySchemes"] = {
                    "bearer": {"type": "http", "scheme": "bearer"},
                    # Anthropic's clients send the key so (gate.py takes either)
                    "api_key": {"type": "apiKey", "in": "header", "name": "x-api-key"},
                }
                for path, operations in schema["paths"].items():
                    if path.startswith("/v1/"):
                        for operation in operations.values():
                            operation["security"] = [{"bearer": []}, {"api_key": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
