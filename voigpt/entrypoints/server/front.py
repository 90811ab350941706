"""What every request meets first: CORS (when configured), the gate (key, body cap,
counting), then each completion route (chat, Responses, Anthropic's Messages, legacy
completions) straight to its endpoint, and everything else to FastAPI.

The completion routes are the ones clients call thousands of times a second. FastAPI's
per-request layers (its error and telemetry middleware, exit stacks, routing, dependency
solving) cost such a route more CPU than the route's own work, measured with py-spy under
``benchmarks/server.py`` (on ``POST /v1/messages``, served through them until issue 23,
they were a fifth of the process's samples); so each is a plain ASGI endpoint, and FastAPI
keeps the other routes, the 404 and 405 answers, the lifespan and the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from fastapi import FastAPI
from starlette.routing import Match, Route

from voigpt.entrypoints.server.gate import ASGIApp, Receive, Scope, Send, route_path


class ServerApp(FastAPI):
    """The FastAPI app whose ``__call__`` enters through ``front`` (set by ``create_app``);
    ``everything_else`` is FastAPI's own handling, the front's last lane."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.front: ASGIApp = self.everything_else

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.front(scope, receive, send)

    async def everything_else(self, scope: Scope, receive: Receive, send: Send) -> None:
        await super().__call__(scope, receive, send)


class Lanes:
    """Each of ``routes``' requests (its path, its methods) goes to its endpoint, the rest
    to ``rest``: one dictionary lookup, whatever the number of lanes. Every request to a
    route's path has the route in its scope, as FastAPI's router would put it (the metrics
    are labelled by it), its 405s included."""

    def __init__(self, routes: Sequence[Route], rest: ASGIApp) -> None:
        self.rest = rest
        self.lanes = {
            route.path: (route, frozenset(route.methods or ()), route.app) for route in routes
        }

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not a coroutine of its own: the lane's (or the rest's) is awaited by the caller,
        # one frame fewer on every request and at each of its resumptions.
        if scope["type"] == "http":
            lane = self.lanes.get(route_path(scope))
            if lane is not None:
                route, methods, endpoint = lane
                scope["route"] = route
                if scope["method"] in methods:
                    return endpoint(scope, receive, send)
        return self.rest(scope, receive, send)


def route_finder(app: FastAPI) -> Callable[[Scope], object]:
    """What the router would match ``scope`` with (a 405 included), without calling it: for
    labelling the requests the gate refuses before routing."""

    def find(scope: Scope) -> object:
        for route in app.router.routes:
            match, _ = route.matches(scope)
            if match is not Match.NONE:
                return route
        return None

    return find
