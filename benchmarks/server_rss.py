"""The resident memory of ``voigpt serve`` over a long run, in two processes of its own
(``--state memory``, in front of the stand-in upstream), each started with the caps that
bound what it keeps, and loaded until those caps are full and evicting:

- stored responses: ``POST /v1/responses`` (stored, the default) on a server started with
  ``--responses-max 500 --responses-ttl 60``: the store is full after 500 requests and
  forgets its oldest record on every request after that.
- reply cache: ``POST /v1/chat/completions`` with ``--cache-ttl 3600`` and a different
  message on each request, 20,000 of them in turn (twice the memory cache's cap of
  10,000 entries, ``voigpt.adapters.memory.state.MAX_CACHED``): every request misses, and
  from the 10,000th on each one evicts the oldest entry.

The figure: the server's RSS after a warm-up, then after each quarter of the run (25k, 50k,
75k and 100k requests in the full run). Target: less than 10 MB of growth from the first
quarter to the end. The caps bound what is kept (500 records of about 1 KB; 10,000 cache
entries of a few hundred bytes, a few MB at most), and both are full before the first
sample, so from there on the RSS should be flat: the 10 MB is room for the allocator's
noise, not for anything the caps allow; a leak of 100 bytes a request (7.5 MB over 75,000)
comes close, one of 200 passes it.
"""

from __future__ import annotations

import attrs
import psutil

from benchmarks.server_load import Load, Target, hammer
from benchmarks.server_processes import metric
from benchmarks.server_results import CLIENTS, Resident
from benchmarks.server_routes import CHAT, RESPONSES, route_target, varied_chat
from voigpt.adapters.memory.state import MAX_CACHED

PARTS = 4  # samples after the warm-up, evenly spaced


@attrs.frozen
class Keeping:
    """One long run: what the server keeps, on which route, started with which caps."""

    name: str
    route: str
    flags: tuple[str, ...]

    def target(self, url: str) -> Target:
        if self.route == CHAT:  # the reply cache: a different message each time
            return varied_chat(url, 2 * MAX_CACHED)
        return route_target(url, self.route)


RUNS = (Keeping("stored responses", RESPONSES,
                ("--responses-max", "500", "--responses-ttl", "60")),
        Keeping("reply cache", CHAT, ("--cache-ttl", "3600")))


async def resident(keeping: Keeping, url: str, process: psutil.Process, *, requests: int,
                   warmup: int) -> Resident:
    """``warmup`` requests, then ``requests`` in ``PARTS`` equal parts, the RSS after each."""
    target = keeping.target(url)
    loads: list[Load] = [await hammer(target, CLIENTS, requests=warmup)]
    warmed = process.memory_info().rss
    samples, done = [], 0
    for _ in range(PARTS):
        loads.append(await hammer(target, CLIENTS, requests=requests // PARTS))
        done += loads[-1].requests
        samples.append((done, process.memory_info().rss))
    return Resident(keeping.name, keeping.route, " ".join(keeping.flags), warmed,
                    tuple(samples), sum(x.errors for x in loads),
                    next((x.first_error for x in loads if x.errors), ""),
                    warmup=loads[0].requests)


def cache_lookups(url: str) -> tuple[int, int]:
    """(hits, misses) of the reply cache of ``voigpt serve`` at ``url``, from its metrics."""
    name = "voigpt_reply_cache_lookups_total"
    return (int(metric(url, name, 'outcome="hit"') or 0),
            int(metric(url, name, 'outcome="miss"') or 0))


def checked(run: Resident, url: str) -> tuple[Resident, list[str]]:
    """``run`` with what the server's metrics say of its cache, and what is wrong with it:
    on the reply-cache run, every request must have looked the cache up and missed (each
    message is new to it, or evicted since)."""
    if run.route != CHAT:
        return run, []
    hits, misses = cache_lookups(url)
    sent = run.requests + run.warmup
    problems = [] if misses >= sent - run.errors and hits == 0 else [
        f"{run.label}: {hits:,} cache hits and {misses:,} misses for {sent:,} requests "
        "(every request should have missed: the cache is not filling and evicting)"]
    return attrs.evolve(run, seen=f"cache lookups: {misses:,} misses, {hits:,} hits"), problems
