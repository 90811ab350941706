"""``voigpt serve``'s processes settle their garbage collector at start-up (``heap.py``):
what exists then is frozen and the young generation's threshold raised; an app embedded in
someone else's process (``create_app`` without ``own_process``) leaves their collector as
it found it. Each test puts the collector back as it was."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import pytest

from voigpt.async_client import AsyncClient
from voigpt.entrypoints.server.app import create_app
from voigpt.entrypoints.server.heap import YOUNG_THRESHOLD, settle_heap


@pytest.fixture(autouse=True)
def collector() -> Iterator[None]:
    threshold = gc.get_threshold()
    gc.unfreeze()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


def started(own_process: bool) -> tuple[int, tuple[int, int, int]]:
    """The frozen count and the thresholds while the app's lifespan has started."""
    app = create_app(AsyncClient(backend="fake"), own_process=own_process)

    async def main() -> tuple[int, tuple[int, int, int]]:
        async with app.router.lifespan_context(app):
            return gc.get_freeze_count(), gc.get_threshold()

    return asyncio.run(main())


def test_settle_heap_freezes_what_exists_and_raises_the_young_threshold() -> None:
    older = gc.get_threshold()[1:]
    settle_heap()
    assert gc.get_freeze_count() > 10_000  # the imported modules, at the least
    assert gc.get_threshold() == (YOUNG_THRESHOLD, *older)
    assert YOUNG_THRESHOLD > 700  # CPython's default


def test_the_command_s_app_settles_the_collector_at_start_up() -> None:
    frozen, threshold = started(own_process=True)
    assert frozen > 10_000
    assert threshold[0] == YOUNG_THRESHOLD


def test_an_embedded_app_leaves_the_collector_alone() -> None:
    before = gc.get_threshold()
    frozen, threshold = started(own_process=False)
    assert (frozen, threshold) == (0, before)


def test_cycles_are_still_collected_after_settling() -> None:
    settle_heap()

    class Node:
        def __init__(self) -> None:
            self.me = self

    import weakref

    node = Node()
    ref = weakref.ref(node)
    del node
    gc.collect(0)
    assert ref() is None
