"""The floor ``voigpt serve`` is measured against: the least a server of the same APIs over
the site's protocol can do.

    python -m benchmarks.server_floor --upstream URL

A bare Starlette app with the four API routes ``voigpt serve`` is measured on, each the
least it can do: parse the JSON body, POST its messages to ``{upstream}/generate_response/``
on one shared keep-alive ``aiohttp.ClientSession`` (``TCPConnector(limit=0)``, no
connection limit) with a token fetched once at start-up, and answer the route's minimal
document: ``POST /v1/chat/completions`` a ``chat.completion``; ``POST /v1/responses`` (a
string ``input``) a ``response``, kept in a dict of the last 1,000 (stored, as the route
promises; never read back here); ``POST /v1/messages`` an Anthropic ``message``;
``POST /v1/completions`` (a string ``prompt``) a ``text_completion``. No validation, no
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
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import uvicorn
import uvloop
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

MODEL = "gpt-3.5-turbo"
STORED = 1000  # responses kept, as voigpt serve's default --responses-max


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

    async def reply(messages: Any) -> str:
        async with held["session"].post(
            url, headers=held["headers"], json={"messages": messages}
        ) as answer:
            return str((await answer.json())["response"])

    async def completions(request: Request) -> JSONResponse:
        body = await request.json()
        text = await reply(body["messages"])
        return JSONResponse({
            "id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion",
            "created": int(time.time()), "model": body.get("model") or MODEL,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": "stop"}],
        })

    async def responses(request: Request) -> JSONResponse:
        body = await request.json()
        text = await reply([{"role": "user", "content": body["input"]}])
        identifier = f"resp_{uuid.uuid4().hex}"
        document = {
            "id": identifier, "object": "response", "created_at": int(time.time()),
            "status": "completed", "model": body.get("model") or MODEL, "store": True,
            "output": [{"type": "message", "id": f"msg_{uuid.uuid4().hex}",
                        "status": "completed", "role": "assistant",
                        "content": [{"type": "output_text", "text": text,
                                     "annotations": []}]}],
        }
        answer = JSONResponse(document)
        stored[identifier] = answer.body  # kept, as the route promises, the oldest forgotten
        while len(stored) > STORED:
            stored.popitem(last=False)
        return answer

    async def messages(request: Request) -> JSONResponse:
        body = await request.json()
        text = await reply(body["messages"])
        return JSONResponse({
            "id": f"msg_{uuid.uuid4().hex}", "type": "message", "role": "assistant",
            "model": body.get("model") or MODEL, "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": 1, "output_tokens": 1},
        })

    async def legacy(request: Request) -> JSONResponse:
        body = await request.json()
        text = await reply([{"role": "user", "content": body["prompt"]}])
        return JSONResponse({
            "id": f"cmpl-{uuid.uuid4().hex}", "object": "text_completion",
            "created": int(time.time()), "model": body.get("model") or MODEL,
            "choices": [{"index": 0, "text": text, "finish_reason": "stop"}],
        })

    stored: OrderedDict[str, bytes | memoryview] = OrderedDict()
    return Starlette(routes=[Route(path, endpoint, methods=["POST"]) for path, endpoint in (
        ("/v1/chat/completions", completions), ("/v1/responses", responses),
        ("/v1/messages", messages), ("/v1/completions", legacy))], lifespan=lifespan)


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
