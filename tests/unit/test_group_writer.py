"""GroupWriter: puts that come together are written together, in order; each returns once
its group is written; a failed group fails each of its puts; a caller that leaves does not
stop its group."""

from __future__ import annotations

import asyncio

import pytest

from voigpt.adapters.groups import GroupWriter


def test_puts_at_once_are_one_group_and_puts_during_a_write_the_next() -> None:
    async def main() -> list[list[int]]:
        groups: list[list[int]] = []

        async def write(group: list[int]) -> None:
            await asyncio.sleep(0.02)
            groups.append(group)

        writer = GroupWriter(write)
        first = asyncio.gather(*(writer.put(n) for n in range(5)))
        await asyncio.sleep(0.01)  # the first group is being written
        await asyncio.gather(first, *(writer.put(n) for n in range(5, 10)))
        await writer.put(10)  # alone: nothing else is waiting
        return groups

    assert asyncio.run(main()) == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9], [10]]


def test_a_write_done_at_once_still_takes_the_puts_of_the_next_turn_of_the_loop() -> None:
    """A group is taken one turn of the loop after its first put: with a write that never
    waits (SQLite's, on the loop), a put made in that next turn joins it."""
    async def main() -> list[list[int]]:
        groups: list[list[int]] = []

        async def write(group: list[int]) -> None:
            groups.append(group)  # done at once

        async def later(writer: GroupWriter[int]) -> None:
            await asyncio.sleep(0)  # the next turn
            await writer.put(1)

        writer = GroupWriter(write)
        await asyncio.gather(writer.put(0), later(writer))
        return groups

    assert asyncio.run(main()) == [[0, 1]]


def test_a_put_returns_only_once_its_group_is_written() -> None:
    async def main() -> None:
        written: list[int] = []

        async def write(group: list[int]) -> None:
            await asyncio.sleep(0.02)
            written.extend(group)

        writer = GroupWriter(write)
        await writer.put(1)
        assert written == [1]

    asyncio.run(main())


def test_a_failed_group_fails_each_of_its_puts_and_the_next_group_is_written() -> None:
    async def main() -> list[int]:
        written: list[int] = []

        async def write(group: list[int]) -> None:
            if 1 in group:
                raise OSError("the store failed")
            written.extend(group)

        writer = GroupWriter(write)
        with pytest.raises(OSError, match="the store failed"):
            await writer.put(1)
        await writer.put(2)
        return written

    assert asyncio.run(main()) == [2]


def test_a_caller_that_leaves_does_not_stop_its_group() -> None:
    async def main() -> list[int]:
        written: list[int] = []

        async def write(group: list[int]) -> None:
            await asyncio.sleep(0.05)
            written.extend(group)

        writer = GroupWriter(write)
        leaving = asyncio.create_task(writer.put(1))
        await asyncio.sleep(0.01)
        leaving.cancel()
        await asyncio.sleep(0.1)
        return written

    assert asyncio.run(main()) == [1]


def test_a_put_that_came_while_a_group_failed_is_still_written() -> None:
    """The writer goes on to the next group after a failed one: nothing is left waiting."""
    async def main() -> list[int]:
        written: list[int] = []

        async def write(group: list[int]) -> None:
            await asyncio.sleep(0.02)
            if 1 in group:
                raise OSError("the store failed")
            written.extend(group)

        writer = GroupWriter(write)
        failing = asyncio.create_task(writer.put(1))
        await asyncio.sleep(0.01)  # the group [1] is being written
        await asyncio.wait_for(writer.put(2), timeout=1)
        with pytest.raises(OSError, match="the store failed"):
            await failing
        return written

    assert asyncio.run(main()) == [2]


def test_a_writer_stopped_with_its_loop_leaves_no_put_waiting() -> None:
    async def main() -> list[bool]:
        async def write(group: list[int]) -> None:
            await asyncio.sleep(10)

        writer = GroupWriter(write)
        puts = [asyncio.create_task(writer.put(n)) for n in (1, 2)]
        await asyncio.sleep(0.01)
        later = asyncio.create_task(writer.put(3))  # waits for the next group
        await asyncio.sleep(0.01)
        assert writer._writer is not None
        writer._writer.cancel()
        await asyncio.wait_for(asyncio.gather(*puts, later, return_exceptions=True), timeout=1)
        return [p.cancelled() for p in (*puts, later)]

    assert asyncio.run(main()) == [True, True, True]
