"""``RedisState``: shared state for a fleet (``--state redis://HOST:PORT/DB``, or
``rediss://`` for TLS). Every key is under ``voigpt:`` in the URL's database.

Redis unreachable at start-up is a warning, not a failure: the process starts on its own
limits and joins the fleet when Redis comes (a replica restarted during a Redis outage
still serves). A password or user Redis refuses is a setting that will never work:
``InvalidConfig`` at start-up, naming the shown URL (never the password)."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import AuthenticationError, RedisError, ResponseError

from voigpt.adapters.redis.link import Link
from voigpt.adapters.redis.pace import LEASE, RedisPace
from voigpt.adapters.redis.stores import RedisReplyCache, RedisResponseStore
from voigpt.adapters.redis.tokens import RedisTokenCache
from voigpt.domain.errors import InvalidConfig
from voigpt.domain.state_location import StateLocation

PREFIX = "voigpt:"
TIMEOUT = 1.0  # seconds to connect, and for an answer: a dead Redis stalls nobody for long


class RedisState:
    """``SharedState`` on one Redis (or Valkey). ``healthy`` is False while Redis is away
    (each call then answers as the process alone would); ``outages`` counts its losses;
    ``on_change`` (a callable taking ``healthy``) hears each transition."""

    def __init__(self, location: StateLocation, *, timeout: float = TIMEOUT,
                 lease: float = LEASE, prefix: str = PREFIX) -> None:
        if location.kind != "redis":
            raise ValueError("RedisState needs a redis:// location")
        self.location, self.lease, self.prefix = location, lease, prefix
        # One retry on a fresh connection (a pooled one may be stale after Redis restarted),
        # then the caller's fallback: never a long stall.
        client = Redis(host=location.host or "localhost", port=location.port, db=location.db,
                       username=location.username, password=location.password,
                       ssl=location.tls, socket_timeout=timeout,
                       socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 1),
                       client_name="voigpt")
        self.link = Link(client, location.shown, location.password)
        self._token_cache = RedisTokenCache(self.link, prefix)
        self._reply_cache = RedisReplyCache(self.link, prefix)
        self._paces: list[RedisPace] = []

    @property
    def healthy(self) -> bool:
        return self.link.healthy

    @property
    def outages(self) -> int:
        return self.link.outages

    async def open(self) -> None:
        """Check Redis at start-up: ``InvalidConfig`` if it refuses the credentials, a
        warning (and the process's own state until it comes) if it cannot be reached."""
        try:
            await self.link.client.ping()
        except AuthenticationError as error:
            raise InvalidConfig(f"state {self.location.shown}: Redis refused the "
                                f"credentials ({self.link.describe(error)}); give the "
                                "password in the URL or VOIGPT_REDIS_PASSWORD") from None
        except ResponseError as error:
            if "NOAUTH" in str(error) or "WRONGPASS" in str(error):
                raise InvalidConfig(f"state {self.location.shown}: Redis wants a password "
                                    "(in the URL or VOIGPT_REDIS_PASSWORD)") from None
            self.link.failed(error)
        except RedisError as error:
            self.link.failed(error)

    def token_cache(self) -> RedisTokenCache:
        return self._token_cache

    def pace(self, *, rate: float | None, concurrency: int | None) -> RedisPace:
        pace = RedisPace(self.link, self.prefix, rate=rate, concurrency=concurrency,
                         lease=self.lease)
        self._paces.append(pace)
        return pace

    def response_store(self, *, max_records: int, ttl: float) -> RedisResponseStore:
        return RedisResponseStore(self.link, self.prefix, max_records=max_records, ttl=ttl)

    def reply_cache(self) -> RedisReplyCache:
        return self._reply_cache

    async def aclose(self) -> None:
        for pace in self._paces:
            await pace.aclose()
        await self.link.client.aclose()

    def __repr__(self) -> str:
        return f"RedisState({self.location.shown!r}, healthy={self.healthy})"
