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
