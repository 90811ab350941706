"""The OpenAI-compatible app: FastAPI routes over one ``AsyncClient``.

``create_app(client, settings)`` is what tests and embedding services use;
``app_from_environment()`` is the factory each ``--workers`` process calls (its settings
come from the ``VOIGPT_*`` variables the command line set).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from voigpt.async_client import AsyncClient
from voigpt.container_lifecycle import post_directly
from voigpt.domain.errors import VoiGptError
from voigpt.entrypoints.server import anthropic_messages, legacy_completions, openapi, responses
from voigpt.entrypoints.server.completions import Completions
from voigpt.entrypoints.server.errors import APIError, ErrorAnswers
from voigpt.entrypoints.server.front import Lanes, ServerApp, route_finder
from voigpt.entrypoints.server.gate import ASGIApp, Gate
from voigpt.entrypoints.server.heap import settle_heap
from voigpt.entrypoints.server.info_routes import OWNER, add_info_routes
from voigpt.entrypoints.server.metrics import ServerMetrics
from voigpt.entrypoints.server.model_ids import ModelIds, UnknownModel
from voigpt.entrypoints.server.protocol import ChatCompletion, ChatCompletionRequest
from voigpt.entrypoints.server.settings import ServerSettings
from voigpt.entrypoints.server.slots import Slots
from voigpt.entrypoints.server.upstream import PaceWatch, Upstream

# The GET routes (models, health, metrics) are info_routes.py's; OWNER is imported from
# here as before.
__all__ = ["COMPLETIONS_PATH", "OWNER", "app_from_environment", "create_app",
           "create_chat_completion"]
logger = logging.getLogger("voigpt.server")


def create_app(
    client: AsyncClient, settings: ServerSettings | None = None, *,
    metrics: ServerMetrics | None = None, close_client: bool = True, own_process: bool = False,
) -> ServerApp:
    """The app over ``client`` (closed when the app shuts down, unless ``close_client``
    is false). The client's completions report to ``metrics``. ``own_process``: the app
    has its process to itself (``voigpt serve``), so it settles the process's garbage
    collector at start-up (``heap.py``)."""
    settings = settings or ServerSettings()
    metrics = metrics or ServerMetrics()
    state = client.container.shared_state(settings.state)
    shared = settings.state is not None and settings.state.kind != "memory"
    pace = (state.pace(rate=settings.site_rate, concurrency=settings.site_concurrency)
            if shared or settings.site_rate or settings.site_concurrency else None)
    watch = None if pace is None else PaceWatch(pace, metrics)
    client.container.observer.override(metrics if watch is None else watch)
    tokens = state.token_cache()
    client.container.async_token_cache.override(
        client.container.remembered_token_cache(tokens) if shared else tokens)
    metrics.follow_state(lambda: state.healthy)
    # Completions go straight over asyncio and httptools when no proxy is in the way: a
    # POST through aiohttp costs several times the server's own work per request.
    post_directly(client.container)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if own_process:
            settle_heap()
        await state.open()
        metrics.check_state()  # with --workers: a store already away at start-up
        yield
        await state.aclose()
        if close_client:
            await client.aclose()

    # No trailing-slash redirects: Starlette builds their Location from the client's Host
    # header, so anyone could have the server point elsewhere. /v1/models/ is a 404.
    app = ServerApp(
        title="voigpt", summary="An OpenAI-compatible server for voigpt.com",
        version=_version(), docs_url=None, redoc_url=None, lifespan=lifespan,
        redirect_slashes=False,
    )
    app.state.metrics = metrics
    answer_error = ErrorAnswers(metrics)
    model_ids = ModelIds(settings.model_aliases)
    slots = Slots(settings.max_concurrency, settings.queue_timeout, metrics)  # one limit for all
    upstream = Upstream(client, slots, metrics, pace=pace,
                        cache=None if settings.cache_ttl is None else state.reply_cache(),
                        cache_ttl=settings.cache_ttl)
    upstream.watch = watch
    completions, legacy = (
        kind(upstream, model_ids, log_prompts=settings.log_prompts, answer_error=answer_error)
        for kind in (Completions, legacy_completions.LegacyCompletions)
    )
    store = state.response_store(max_records=settings.responses_max, ttl=settings.responses_ttl)
    responder = responses.Responses(upstream, model_ids, log_prompts=settings.log_prompts,
                                    answer_error=answer_error)
    responder.store = store

    # Served by the front (front.py); in the router too, so that other methods get a 405.
    completion_route = Route(COMPLETIONS_PATH, completions, methods=["POST"],
                             include_in_schema=False)
    app.router.routes.append(completion_route)
    legacy_route = Route(legacy_completions.PATH, legacy, methods=["POST"],
                         include_in_schema=False)
    app.router.routes.append(legacy_route)
    responses_route = Route(responses.PATH, responder, methods=["POST"],
                            include_in_schema=False)
    app.router.routes.append(responses_route)
    app.router.routes.extend(responses.stored_routes(store))
    anthropic_routes = anthropic_messages.routes(
        upstream, model_ids, log_prompts=settings.log_prompts, answer_error=answer_error,
    )
    app.router.routes.extend(anthropic_routes)

    add_info_routes(app, client, model_ids, metrics)  # models, health, metrics

    from voigpt.entrypoints.server.page import add_page

    add_page(app)  # the chat page at /: no key needed to load it, only to use /v1/*
    _handle_errors(app, answer_error)
    openapi.document(app, keyed=bool(settings.api_keys),
                     documented=[_DOCUMENTED_COMPLETIONS, legacy_completions.DOCUMENTED,
                                 *responses.DOCUMENTED, *anthropic_messages.DOCUMENTED])
    front: ASGIApp = Gate(
        Lanes([completion_route, responses_route, legacy_route, *anthropic_routes],
              app.everything_else),
        keys=settings.api_keys,
        max_body_bytes=settings.max_body_bytes, metrics=metrics, answer_error=answer_error,
        find_route=route_finder(app),
    )
    if settings.cors_origins:
        from starlette.middleware.cors import CORSMiddleware

        front = CORSMiddleware(
            front, allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "X-Api-Key", "Content-Type"],
            expose_headers=["Retry-After"],
        )
    app.front = front
    return app


# What the document says of POST /v1/chat/completions; ``Completions`` serves it.
async def create_chat_completion(body: ChatCompletionRequest) -> ChatCompletion:
    """OpenAI's chat completion. Sampling parameters are accepted and ignored; those that
    would change the answer's shape are refused. Usage counts are an estimate."""
    raise NotImplementedError("documentation only: Completions serves this route")


COMPLETIONS_PATH = "/v1/chat/completions"
_DOCUMENTED_COMPLETIONS = APIRoute(
    COMPLETIONS_PATH, create_chat_completion, methods=["POST"], response_model=ChatCompletion,
    responses=openapi.COMPLETION_RESPONSES, summary="Create a chat completion",
)


def _handle_errors(app: FastAPI, answer_error: ErrorAnswers) -> None:
    """FastAPI's routes answer their errors as the completion endpoint does."""

    async def handler(request: Request, exc: Exception) -> Response:
        return answer_error(exc, request.scope)

    for kind in (APIError, UnknownModel, HTTPException, RequestValidationError, VoiGptError,
                 Exception):
        app.add_exception_handler(kind, handler)


def _version() -> str:
    from voigpt import __version__

    return __version__


def app_from_environment() -> ServerApp:
    """The app of one ``--workers`` process, from the ``VOIGPT_*`` variables."""
    from voigpt.config import Settings
    from voigpt.container import container_for

    client = AsyncClient(container=container_for(Settings.load()))
    return create_app(client, ServerSettings.load(), own_process=True)
