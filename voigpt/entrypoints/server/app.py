"""The OpenAI-compatible app: FastAPI routes over one ``AsyncClient``.

``create_app(client, settings)`` is what tests and embedding services use;
``app_from_environment()`` is the factory each ``--workers`` process calls (its settings
come from the ``VOIGPT_*`` variables the command line set).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from voigpt.async_client import AsyncClient
from voigpt.domain.errors import VoiGptError
from voigpt.domain.values import DEFAULT_MODEL
from voigpt.entrypoints.server import openapi
from voigpt.entrypoints.server.completions import Completions
from voigpt.entrypoints.server.errors import APIError, from_validation, from_voigpt
from voigpt.entrypoints.server.gate import Gate
from voigpt.entrypoints.server.health import Readiness
from voigpt.entrypoints.server.metrics import ServerMetrics
from voigpt.entrypoints.server.protocol import ChatCompletion, Health, Model, ModelList
from voigpt.entrypoints.server.settings import ServerSettings
from voigpt.entrypoints.server.slots import Slots

logger = logging.getLogger("voigpt.server")
MODELS = (DEFAULT_MODEL,)
OWNER = "voigpt"


def create_app(
    client: AsyncClient, settings: ServerSettings | None = None, *,
    metrics: ServerMetrics | None = None, close_client: bool = True,
) -> FastAPI:
    """The app over ``client`` (closed when the app shuts down, unless ``close_client``
    is false). The client's completions report to ``metrics``."""
    settings = settings or ServerSettings()
    metrics = metrics or ServerMetrics()
    client.container.observer.override(metrics)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if close_client:
            await client.aclose()

    app = FastAPI(
        title="voigpt", summary="An OpenAI-compatible server for voigpt.com",
        version=_version(), docs_url=None, redoc_url=None, lifespan=lifespan,
    )
    app.state.metrics = metrics
    completions = Completions(
        client, Slots(settings.max_concurrency, settings.queue_timeout, metrics), MODELS,
        log_prompts=settings.log_prompts,
    )
    readiness = Readiness(client, metrics)
    created = int(time.time())
    models = [{"id": name, "object": "model", "created": created, "owned_by": OWNER}
              for name in MODELS]

    app.post("/v1/chat/completions", response_model=ChatCompletion,
             responses=openapi.COMPLETION_RESPONSES, summary="Create a chat completion")(
        completions.__call__)

    @app.get("/v1/models", response_model=ModelList, responses=openapi.KEYED_RESPONSES)
    async def list_models() -> Response:
        return _json({"object": "list", "data": models})

    @app.get("/v1/models/{model_id}", response_model=Model,
             responses={**openapi.KEYED_RESPONSES, **openapi.NOT_FOUND})
    async def get_model(model_id: str) -> Response:
        for model in models:
            if model["id"] == model_id:
                return _json(model)
        raise APIError(404, f"the model {model_id!r} does not exist", param="model_id",
                       code="model_not_found")

    app.get("/health", response_model=Health, summary="Liveness")(readiness.live)
    app.get("/health/ready", response_model=Health, summary="Readiness",
            responses=openapi.UNREADY)(readiness.ready)

    @app.get("/metrics", response_class=Response, summary="Prometheus metrics")
    async def prometheus() -> Response:
        return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    from voigpt.entrypoints.server.page import add_page

    add_page(app)  # the chat page at /: no key needed to load it, only to use /v1/*
    _handle_errors(app, metrics)
    openapi.document(app, keyed=bool(settings.api_keys))
    app.add_middleware(
        Gate, keys=settings.api_keys, max_body_bytes=settings.max_body_bytes, metrics=metrics
    )
    if settings.cors_origins:
        from starlette.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware, allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type"], expose_headers=["Retry-After"],
        )
    return app


def _handle_errors(app: FastAPI, metrics: ServerMetrics) -> None:
    def answer(error: APIError) -> Response:
        metrics.rejected(error.code)
        return Response(error.body(), error.status, dict(error.headers or {}),
                        "application/json")

    async def api_error(request: Request, exc: Exception) -> Response:
        return answer(exc if isinstance(exc, APIError) else APIError(500, str(exc)))

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        # FastAPI's only 400: a body it could not decode (not UTF-8, or nested too deep).
        code = {400: "invalid_json", 404: "unknown_url", 405: "method_not_allowed"}.get(status)
        what = f"{request.method} {request.url.path}"
        message = (f"no route {what}" if status == 404
                   else f"{what} is not allowed" if status == 405
                   else "the body is not valid UTF-8 JSON" if status == 400
                   else "the request failed")
        headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else None
        return answer(APIError(status, message, code=code, headers=headers))  # 405: Allow

    async def invalid(request: Request, exc: Exception) -> Response:
        problems = exc.errors() if isinstance(exc, RequestValidationError) else []
        return answer(from_validation(problems))

    async def voigpt_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, VoiGptError)
        return answer(from_voigpt(exc))

    async def internal(request: Request, exc: Exception) -> Response:
        logger.error("internal error in %s %s: %s", request.method, request.url.path,
                     type(exc).__name__)
        return answer(APIError(500, "internal server error", type="server_error",
                               code="internal_error"))

    app.add_exception_handler(APIError, api_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(VoiGptError, voigpt_error)
    app.add_exception_handler(Exception, internal)


def _json(document: Any) -> Response:
    import json

    return Response(json.dumps(document, separators=(",", ":")), media_type="application/json")


def _version() -> str:
    from voigpt import __version__

    return __version__


def app_from_environment() -> FastAPI:
    """The app of one ``--workers`` process, from the ``VOIGPT_*`` variables."""
    from voigpt.config import Settings
    from voigpt.container import container_for

    client = AsyncClient(container=container_for(Settings.load()))
    return create_app(client, ServerSettings.load())
