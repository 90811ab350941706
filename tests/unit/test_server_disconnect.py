"""``until_disconnected`` without a server, on a real event loop: a completion is watched for
its client going away only once it has run ``WATCH_AFTER`` seconds; a client already gone
by then is noticed at that moment (the completion is cancelled, the answer is 499, and the
request's task is left with no cancellation pending); the server stopping a request is a
cancellation, not a 499; and no watcher outlives its request."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from voigpt.domain.values import Completion
from voigpt.entrypoints.server.completions import WATCH_AFTER, until_disconnected
from voigpt.entrypoints.server.errors import APIError

COMPLETION = Completion(text="Hi", model="gpt-3.5-turbo")


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
