"""Stored responses and cached replies, in Redis, for every process on it.

Responses keep ``BoundedResponseStore``'s caps fleet-wide: each record is a key that
expires by itself (``PX ttl``), and beside them an index (a sorted set of ids by expiry:
oldest first, in the order they came), each record's size (a hash) and their sum, kept
consistent by one script per change, so at most ``max_records`` and ``max_bytes`` are
held, the oldest going first."""

from __future__ import annotations

from voigpt.adapters.groups import GroupWriter
from voigpt.adapters.memory import BoundedResponseStore, MemoryReplyCache
from voigpt.adapters.memory.responses import MAX_BYTES
from voigpt.adapters.redis.link import Link, as_bytes
from voigpt.adapters.redis.pace_scripts import NOW

# KEYS: index, sizes, bytes. ARGV: record prefix. Forgets what expired (the records have
# gone by themselves: their sizes leave the sum here).
_EXPIRE = """
local function forget(id)
  local size = tonumber(redis.call('HGET', KEYS[2], id) or '0')
  redis.call('HDEL', KEYS[2], id)
  redis.call('ZREM', KEYS[1], id)
  redis.call('DECRBY', KEYS[3], size)
  return redis.call('DEL', ARGV[1] .. id)
end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)) do forget(id) end
"""
# ARGV: prefix, max records, max bytes, ttl ms, then an id and its record for each put, in
# the order they were made: one call for a group of puts, as if each had been sent alone.
PUT = NOW + _EXPIRE + """
local ttl = tonumber(ARGV[4])
local function put(id, record)
  forget(id)
  local size = string.len(record)
  while redis.call('ZCARD', KEYS[1]) > 0 and (redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2])
      or tonumber(redis.call('GET', KEYS[3]) or '0') + size > tonumber(ARGV[3])) do
    forget(redis.call('ZRANGE', KEYS[1], 0, 0)[1])
  end
  redis.call('SET', ARGV[1] .. id, record, 'PX', ttl)
  local score = now + ttl  -- after every other (ties in a millisecond keep their order)
  local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')[2]
  if last and tonumber(last) >= score then score = tonumber(last) + 0.01 end
  redis.call('ZADD', KEYS[1], score, id)
  redis.call('HSET', KEYS[2], id, size)
  redis.call('INCRBY', KEYS[3], size)
end
for i = 5, #ARGV, 2 do put(ARGV[i], ARGV[i + 1]) end
return 1
"""
# ARGV: prefix, id. Whether there was a record.
DELETE = NOW + _EXPIRE + "return forget(ARGV[2])\n"


class RedisResponseStore:
    """``ResponseStore`` in Redis; while Redis is away, the process's own
    ``BoundedResponseStore`` (what it stores then stays readable here, by it alone). Puts
    that come together share one call of the script (``GroupWriter``)."""

    def __init__(self, link: Link, prefix: str, *, max_records: int, ttl: float,
                 max_bytes: int = MAX_BYTES) -> None:
        self._link, self.max_records, self.ttl, self.max_bytes = link, max_records, ttl, max_bytes
        self._prefix = f"{prefix}responses:"
        self._keys = [f"{prefix}responses-index", f"{prefix}responses-sizes",
                      f"{prefix}responses-bytes"]
        self._put, self._delete = (link.client.register_script(PUT),
                                   link.client.register_script(DELETE))
        self._alone = BoundedResponseStore(max_records, ttl, max_bytes=max_bytes)
        self._group = GroupWriter(self._put_group)

    async def put(self, key: str, record: bytes) -> None:
        if self.max_records <= 0 or len(record) > self.max_bytes:
            return
        await self._group.put((key, record))

    async def _put_group(self, records: list[tuple[str, bytes]]) -> None:
        """The puts that came together, in one call of the script (one round trip; a
        pipeline of one call each cost a second, redis-py's SCRIPT EXISTS before it)."""
        ttl = max(1, int(self.ttl * 1000))

        async def shared() -> None:
            args: list[str | bytes | int] = [self._prefix, self.max_records, self.max_bytes,
                                             ttl]
            for key, record in records:
                args += (key, record)
            await self._put(keys=self._keys, args=args)

        async def alone() -> None:
            for key, record in records:
                await self._alone.put(key, record)

        await self._link.run(shared, alone)

    async def get(self, key: str) -> bytes | None:
        async def shared() -> bytes | None:
            return as_bytes(await self._link.client.get(self._prefix + key))

        found = await self._link.run(shared, _none)
        return found if found is not None else await self._alone.get(key)

    async def delete(self, key: str) -> bool:
        async def shared() -> bool:
            return bool(await self._delete(keys=self._keys, args=[self._prefix, key]))

        here = await self._alone.delete(key)
        return await self._link.run(shared, _false) or here

    def __repr__(self) -> str:
        return (f"RedisResponseStore({self._link.shown!r}, max_records={self.max_records}, "
                f"ttl={self.ttl:g}, max_bytes={self.max_bytes})")


class RedisReplyCache:
    """``ReplyCache`` in Redis (``SET PX``); while Redis is away, the process's own."""

    def __init__(self, link: Link, prefix: str) -> None:
        self._link, self._prefix = link, f"{prefix}reply:"
        self._alone = MemoryReplyCache()

    async def get(self, key: str) -> bytes | None:
        async def shared() -> bytes | None:
            return as_bytes(await self._link.client.get(self._prefix + key))

        found = await self._link.run(shared, _none)
        return found if found is not None else await self._alone.get(key)

    async def put(self, key: str, value: bytes, ttl: float) -> None:
        async def shared() -> None:
            await self._link.client.set(self._prefix + key, value,
                                        px=max(1, int(ttl * 1000)))

        await self._link.run(shared, lambda: self._alone.put(key, value, ttl))

    def __repr__(self) -> str:
        return f"RedisReplyCache({self._link.shown!r})"


async def _none() -> None:
    return None


async def _false() -> bool:
    return False
