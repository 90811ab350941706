"""Port: where ``voigpt serve`` keeps the responses it stored (OpenAI's Responses API,
``store: true``), so that ``previous_response_id`` and ``GET /v1/responses/{id}`` find
them. Small on purpose: an adapter shared between processes (a later issue) only has to
keep bytes under a key. A record is opaque here: the entry point encodes it.
"""

from __future__ import annotations

from typing import Protocol


class ResponseStore(Protocol):
    """Records by id. An adapter may forget a record at any time (a size cap, a time to
    live): ``get`` then answers None, as for an id it never had."""

    async def put(self, key: str, record: bytes) -> None:
        """Keep ``record`` under ``key``, replacing any other."""
        ...

    async def get(self, key: str) -> bytes | None:
        """The record under ``key``, or None."""
        ...

    async def delete(self, key: str) -> bool:
        """Forget the record under ``key``; whether there was one."""
        ...
