"""``until_disconnected`` without a server, on a real event loop: a completion is watched for
its client going away only once it has run ``WATCH_AFTER`` seconds; a client already gone
by then is noticed at that moment (the completion is cancelled, the answer is 499, and the
request's task is left with no cancellation pending); the server stopping a request is a
cancellation, not a 499; and no watcher outlives its request."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest

from voigpt.domain.values import Completion
from voigpt.entrypoints.server.disconnect import WATCH_AFTER, until_disconnected
from voigpt.entrypoints.server.errors import APIError
from voigpt.entrypoints.server.metrics import ServerMetrics
from voigpt.entrypoints.server.slots import Slots

COMPLETION = Completion(text="Hi", model="gpt-3.5-turbo")
IN_FLIGHT = "voigpt_completions_in_flight"


class Client:
    """An ASGI ``receive`` after the body: it counts its calls and answers
    ``http.disconnect`` once the client is ``gone``."""

    def __init__(self) -> None:
        self.calls = 0
        self.gone = asyncio.Event()

    async def __call__(self) -> dict[str, Any]:
        self.calls += 1
        await self.gone.wait()
        return {"type": "http.disconnect"}


def others() -> set[asyncio.Task[Any]]:
    return asyncio.all_tasks() - {asyncio.current_task()}  # type: ignore[operator]


async def settle() -> None:
    for _ in range(3):  # a cancelled task needs a step or two to end
        await asyncio.sleep(0)


def test_a_completion_quicker_than_the_delay_is_never_watched() -> None:
    async def main() -> tuple[Completion, int, int]:
        client = Client()

        async def work() -> Completion:
            await asyncio.sleep(0)
            return COMPLETION

        result = await until_disconnected(client, work())
        await asyncio.sleep(WATCH_AFTER * 3)  # the watch would have started by now
        return result, client.calls, len(others())

    assert asyncio.run(main()) == (COMPLETION, 0, 0)


def test_a_client_gone_early_is_noticed_when_the_watch_starts() -> None:
    async def main() -> tuple[int, list[str], float, int, int]:
        client = Client()
        client.gone.set()  # gone before the completion even started
        seen: list[str] = []

        async def work() -> Completion:
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                seen.append("cancelled")
                raise
            return COMPLETION

        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(APIError) as info:
            await until_disconnected(client, work())
        took = loop.time() - started
        task = asyncio.current_task()
        pending = task.cancelling() if task is not None and hasattr(task, "cancelling") else 0
        await settle()
        return info.value.status, seen, took, pending, len(others())

    status, seen, took, pending, left = asyncio.run(main())
    assert status == 499
    assert seen == ["cancelled"]
    assert WATCH_AFTER * 0.9 <= took < 5  # not before the watch started; long before 30 s
    assert pending == 0  # the cancellation that stopped the completion was taken back
    assert left == 0


def test_a_client_leaving_mid_completion_cancels_it() -> None:
    async def main() -> tuple[int, int]:
        client = Client()

        async def leave() -> None:
            await asyncio.sleep(WATCH_AFTER * 3)
            client.gone.set()

        leaving = asyncio.ensure_future(leave())
        with pytest.raises(APIError) as info:
            await until_disconnected(client, asyncio.sleep(30, COMPLETION))
        await leaving
        await settle()
        return info.value.status, len(others())

    assert asyncio.run(main()) == (499, 0)


def test_the_server_stopping_a_request_is_a_cancellation_not_a_499() -> None:
    async def main() -> tuple[int, bool, int]:
        client = Client()
        request = asyncio.ensure_future(until_disconnected(client, asyncio.sleep(30, COMPLETION)))
        await asyncio.sleep(WATCH_AFTER * 3)  # watched by now
        calls = client.calls
        request.cancel()
        with pytest.raises(asyncio.CancelledError):
            await request
        await settle()
        return calls, request.cancelled(), len(others())

    assert asyncio.run(main()) == (1, True, 0)


def test_a_client_leaving_as_the_completion_ends_cancels_nothing() -> None:
    """The disconnect and the reply arrive in the same turn of the loop, the disconnect
    first: the watcher ends before the request's task resumes, and its news comes after
    the completion is over. The request goes on to answer, uncancelled."""

    async def main() -> tuple[Completion, str]:
        client = Client()
        loop = asyncio.get_running_loop()

        async def work() -> Completion:
            await asyncio.sleep(WATCH_AFTER * 2)  # watched by now
            replied = loop.create_future()

            def both() -> None:
                client.gone.set()
                replied.set_result(None)

            loop.call_soon(both)
            await replied
            return COMPLETION

        result = await until_disconnected(client, work())
        await asyncio.sleep(WATCH_AFTER)  # the handler goes on to send its answer
        return result, "answered"

    assert asyncio.run(main()) == (COMPLETION, "answered")


# --- a queued client that leaves as its slot frees ---------------------------------------


async def turns(count: int) -> None:
    for _ in range(count):
        await asyncio.sleep(0)


async def leave_the_queue_as_a_slot_frees(gap: int) -> tuple[str, list[str], float, bool]:
    """One slot, held; a request queued for it, watched for its client; then the holder
    gives the slot back and, ``gap`` turns of the loop later (before it, if negative),
    the queued request's client goes away. What the queued request answered, how far its
    completion got, the in-flight gauge, and whether the slot can be taken again."""
    metrics = ServerMetrics()
    slots = Slots(1, 30, metrics)
    client = Client()
    done_holding = asyncio.Event()
    progress: list[str] = []

    async def hold() -> None:
        async with slots:
            await done_holding.wait()

    async def complete() -> Completion:  # what would go upstream, once it has a slot
        async with slots:
            progress.append("started")
            await asyncio.sleep(WATCH_AFTER)
            progress.append("finished")
            return COMPLETION

    holder = asyncio.ensure_future(hold())
    await turns(3)
    queued = asyncio.ensure_future(until_disconnected(client, complete()))
    await asyncio.sleep(WATCH_AFTER * 3)  # queued, and watched
    assert client.calls == 1 and progress == []
    first, then = (done_holding.set, client.gone.set) if gap >= 0 else (
        client.gone.set, done_holding.set)
    first()
    await turns(abs(gap))
    then()
    try:
        outcome = f"answered {await queued}"
    except APIError as exc:
        outcome = str(exc.status)
    await holder
    await settle()
    slots.queue_timeout = 0  # the slot came back: a request that cannot wait gets it
    try:
        async with slots:
            free = True
    except APIError:
        free = False
    return outcome, progress, metrics.registry.get_sample_value(IN_FLIGHT) or 0.0, free


@pytest.mark.parametrize("gap", range(-3, 12))
def test_a_queued_client_leaving_as_its_slot_frees_is_answered_499_and_never_completes(
    gap: int,
) -> None:
    """Whichever turn of the loop the disconnect lands on around the slot's hand-over, the
    cancellation it brings is never lost: the completion does not run to its end (it may
    have begun, when the slot came a turn or more before the news), the answer is 499,
    and the slot and the in-flight gauge are given back."""
    outcome, progress, in_flight, free = asyncio.run(leave_the_queue_as_a_slot_frees(gap))
    assert outcome == "499"
    assert "finished" not in progress
    assert in_flight == 0
    assert free


def test_a_cancellation_swallowed_under_the_completion_still_answers_499() -> None:
    """Something under the completion catches the cancellation the watch sent and returns
    a reply all the same (as ``asyncio.wait_for`` can on 3.10 and 3.11): the client is
    still gone, so the answer is 499, with no cancellation left pending on the task."""

    async def main() -> tuple[str, int]:
        client = Client()

        async def swallowing() -> Completion:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(30)
            return COMPLETION

        async def leave() -> None:
            await asyncio.sleep(WATCH_AFTER * 3)
            client.gone.set()

        leaving = asyncio.ensure_future(leave())
        try:
            outcome = f"answered {await until_disconnected(client, swallowing())}"
        except APIError as exc:
            outcome = str(exc.status)
        await leaving
        task = asyncio.current_task()
        pending = task.cancelling() if task is not None and hasattr(task, "cancelling") else 0
        return outcome, pending

    assert asyncio.run(main()) == ("499", 0)
