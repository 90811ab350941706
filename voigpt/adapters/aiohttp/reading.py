"""Reading an answer whole, within the size cap: the declared length first, then every
byte as it streams in (decompressed, so a compression bomb stops at the cap too)."""

from __future__ import annotations

import aiohttp
from aiohttp import hdrs

from voigpt.adapters.site import Answer, declares_more_than, failures


async def read_answer(
    response: aiohttp.ClientResponse, cap: int, *, what: str, url: str
) -> Answer:
    """The whole answer of ``response``, or ``ReplyTooLarge`` once it passes ``cap`` bytes
    (the caller then closes the connection rather than reading the rest)."""
    if declares_more_than(response.headers.get(hdrs.CONTENT_LENGTH, ""), cap):
        raise failures.too_large(what, url, cap, response.status)
    content = response.content
    chunks: list[bytes] = []
    size = 0
    while not content.at_eof():
        chunk = await content.readany()
        size += len(chunk)
        if size > cap:
            raise failures.too_large(what, url, cap, response.status)
        chunks.append(chunk)
    cookies: dict[str, str] = {}
    if hdrs.SET_COOKIE in response.headers:
        cookies = {name: morsel.value for name, morsel in response.cookies.items()}
    return Answer(
        status=response.status, headers=response.headers, body=b"".join(chunks), cookies=cookies
    )

