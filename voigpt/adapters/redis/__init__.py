"""Shared state on Redis or Valkey (``--state redis://...``): the token, the site's pace,
stored responses and cached replies for every process of a fleet, through redis-py's
asyncio client (the ``state`` extra). Only the container imports this package, and only
for a Redis location, so ``from voigpt import Client`` never loads redis-py."""

from voigpt.adapters.redis.state import RedisState

__all__ = ["RedisState"]
