"""The floor ``voigpt serve`` is measured against: the least an OpenAI-compatible server over
the site's protocol can do.

    python -m benchmarks.server_floor --upstream URL

A bare Starlette app with one route, ``POST /v1/chat/completions``: parse the JSON body,
POST its messages to ``{upstream}/generate_response/`` on one shared keep-alive
``aiohttp.ClientSession`` (``TCPConnector(limit=0)``, no connection limit) with a token
fetched once at start-up, and answer a minimal ``chat.completion``. No validation, no
limits, no metrics, no error mapping. It runs under uvicorn as ``voigpt serve`` does: one
process, uvloop and httptools, no access log. Prints ``floor listening on http://HOST:PORT``
once it listens, and stops on SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import uvicorn
import uvloop
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


def create_floor(upstream: str) -> Starlette:
    held: dict[str, Any] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0), cookie_jar=aiohttp.DummyCookieJar()
        )
        try:
            async with session.get(upstream + "/") as page:
                page.raise_for_status()
                await page.read()
                token = page.cookies["csrftoken"].value
        except BaseException:
            await session.close()
            raise
        held["session"] = session
        held["headers"] = {"Cookie": f"csrftoken={token}", "X-CSRFToken": token,
                           "Origin": upstream, "Referer": upstream + "/"}
        yield
        await session.close()

    url = upstream + "/generate_response/"

    async def completions(request: Request) -> JSONResponse:
        body = await request.json()
        async with held["session"].post(
            url, headers=held["headers"], json={"messages": body["messages"]}
        ) as answer:
            reply = (await answer.json())["response"]
        return JSONResponse({
            "id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion",
            "created": int(time.time()), "model": body.get("model") or "gpt-3.5-turbo",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": reply},
                         "finish_reason": "stop"}],
        })

    return Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])],
                     lifespan=lifespan)


async def _serve(server: uvicorn.Server) -> None:
    task = asyncio.ensure_future(server.serve())
    while not server.started and not task.done():
        await asyncio.sleep(0.02)
    if server.started:
        port = server.servers[0].sockets[0].getsockname()[1]
        print(f"floor listening on http://{server.config.host}:{port}", flush=True)
    await task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--upstream", required=True, help="the site (or emulator) URL")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    config = uvicorn.Config(
        create_floor(args.upstream.rstrip("/")), host="127.0.0.1", port=args.port,
        loop="uvloop", http="httptools", workers=1, access_log=False, log_level="warning",
        server_header=False, backlog=2048, lifespan="on",
    )
    uvloop.run(_serve(uvicorn.Server(config)))  # the loop="uvloop" above, as uvicorn.run does


if __name__ == "__main__":
    main()
