"""The server's GET routes that read no body and ask no model: the models (the list, and
one by id, in OpenAI's shape), liveness and readiness, and the Prometheus metrics. Added
to the app by ``create_app``; the gate in front asks a key for those under ``/v1``.
"""

from __future__ import annotations

import json
import time
from typing import Any

from fastapi import FastAPI
from starlette.responses import Response

from voigpt.async_client import AsyncClient
from voigpt.entrypoints.server import openapi
from voigpt.entrypoints.server.health import Readiness
from voigpt.entrypoints.server.metrics import ServerMetrics
from voigpt.entrypoints.server.model_ids import ModelIds
from voigpt.entrypoints.server.protocol import Health, Model, ModelList

OWNER = "voigpt"


def add_info_routes(app: FastAPI, client: AsyncClient, model_ids: ModelIds,
                    metrics: ServerMetrics) -> None:
    """The routes on ``app``; the model list is made once, its ``created`` the start time."""
    readiness = Readiness(client, metrics)
    created = int(time.time())
    models = [{"id": name, "object": "model", "created": created, "owned_by": OWNER}
              for name in model_ids.listed()]

    @app.get("/v1/models", response_model=ModelList, responses=openapi.KEYED_RESPONSES)
    async def list_models() -> Response:
        return _json({"object": "list", "data": models})

    @app.get("/v1/models/{model_id}", response_model=Model,
             responses={**openapi.KEYED_RESPONSES, **openapi.NOT_FOUND})
    async def get_model(model_id: str) -> Response:
        """Any id the completion routes accept (an alias too, named as asked)."""
        model_ids.require(model_id, param="model_id")
        return _json({"id": model_id, "object": "model", "created": created, "owned_by": OWNER})

    app.get("/health", response_model=Health, summary="Liveness")(readiness.live)
    app.get("/health/ready", response_model=Health, summary="Readiness",
            responses=openapi.UNREADY)(readiness.ready)

    @app.get("/metrics", response_class=Response, summary="Prometheus metrics")
    async def prometheus() -> Response:
        return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")


def _json(document: Any) -> Response:
    return Response(json.dumps(document, separators=(",", ":")), media_type="application/json")
