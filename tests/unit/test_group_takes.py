"""GroupTakes: the slots of callers waiting together are taken in one trip, handed out in
the order the callers came; the ones the store did not give wait and ask again; a slot
meant for a caller that left goes to the next one or back to the store; a failed trip
fails each caller it was for, and later callers try again."""

from __future__ import annotations

import asyncio
import time

import pytest

from voigpt.adapters.group_takes import GroupTakes


class Store:
    """A cap of ``free`` slots, numbered in the order they are taken; ``trips`` records how
    many each trip asked for, ``back`` what was given back."""

    def __init__(self, free: int, *, trip: float = 0.0, poll: float = 0.01) -> None:
        self.free, self.trip, self.poll = free, trip, poll
        self.trips: list[int] = []
        self.back: list[int] = []
        self.taken = 0
        self.error: Exception | None = None

    async def take_group(self, n: int) -> tuple[list[int], float]:
        self.trips.append(n)
        if self.trip:
            await asyncio.sleep(self.trip)
        if self.error is not None:
            raise self.error
        k = min(n, self.free)
        self.free -= k
        slots = list(range(self.taken, self.taken + k))
        self.taken += k
        return slots, self.poll

    def give_back(self, slot: int) -> None:
        self.back.append(slot)
        self.free += 1


def test_callers_waiting_together_share_one_trip_and_get_slots_in_their_order() -> None:
    async def main() -> tuple[list[int], list[int]]:
        store = Store(64)
        takes = GroupTakes(store.take_group, store.give_back)
        got = await asyncio.gather(*(takes.take() for _ in range(20)))
        return list(got), store.trips

    got, trips = asyncio.run(main())
    assert got == list(range(20))
    assert trips == [20]


def test_callers_past_the_cap_wait_and_get_the_slots_freed_in_their_order() -> None:
    async def main() -> tuple[list[tuple[int, int]], list[int]]:
        store = Store(2)
        takes = GroupTakes(store.take_group, store.give_back)
        order: list[tuple[int, int]] = []

        async def caller(i: int) -> None:
            slot = await takes.take()
            order.append((i, slot))
            await asyncio.sleep(0.02)
            store.give_back(slot)

        await asyncio.gather(*(caller(i) for i in range(5)))
        return order, store.trips

    order, trips = asyncio.run(main())
    assert [i for i, _ in order] == [0, 1, 2, 3, 4]  # first come, first started
    assert len({slot for _, slot in order}) == 5
    assert trips[0] == 5 and len(trips) < 20  # waited and asked again, not spun


def test_a_slot_freed_here_wakes_the_waiting_callers_before_their_next_poll() -> None:
    async def main() -> float:
        store = Store(1, poll=5.0)
        takes = GroupTakes(store.take_group, store.give_back)
        first = await takes.take()
        second = asyncio.ensure_future(takes.take())
        await asyncio.sleep(0.05)  # asked, found none, waiting 5 s to ask again
        began = time.monotonic()
        store.give_back(first)
        takes.freed()
        assert await asyncio.wait_for(second, 2) == 1
        return time.monotonic() - began

    assert asyncio.run(main()) < 1


def test_a_slot_taken_for_a_caller_that_left_during_the_trip_goes_to_the_next() -> None:
    async def main() -> tuple[int, list[int], int]:
        store = Store(1, trip=0.05)
        takes = GroupTakes(store.take_group, store.give_back)
        first = asyncio.ensure_future(takes.take())
        second = asyncio.ensure_future(takes.take())
        await asyncio.sleep(0.01)  # the trip for both is under way
        first.cancel()
        slot = await second
        return slot, store.back, store.free

    slot, back, free = asyncio.run(main())
    assert slot == 0 and back == [] and free == 0


def test_a_slot_taken_for_a_caller_that_left_and_nobody_else_goes_back() -> None:
    async def main() -> tuple[list[int], int]:
        store = Store(3, trip=0.05)
        takes = GroupTakes(store.take_group, store.give_back)
        caller = asyncio.ensure_future(takes.take())
        await asyncio.sleep(0.01)
        caller.cancel()
        await asyncio.sleep(0.1)
        return store.back, store.free

    assert asyncio.run(main()) == ([0], 3)


def test_a_caller_cancelled_as_its_slot_arrives_gives_it_back() -> None:
    """The slot was handed over, then the caller was cancelled before it could run again:
    only the caller can give it back."""
    async def main() -> tuple[list[int], int]:
        store = Store(3)
        takes = GroupTakes(store.take_group, store.give_back)
        caller = asyncio.ensure_future(takes.take())
        while not store.trips:  # until the trip ran and handed the slot over
            await asyncio.sleep(0)
        caller.cancel()
        with pytest.raises(asyncio.CancelledError):
            await caller
        return store.back, store.free

    assert asyncio.run(main()) == ([0], 3)


def test_a_failed_trip_fails_its_callers_and_a_later_caller_tries_again() -> None:
    async def main() -> tuple[list[BaseException | int], int, list[int]]:
        store = Store(3)
        store.error = OSError("the store is down")
        takes = GroupTakes(store.take_group, store.give_back)
        failed = await asyncio.gather(*(takes.take() for _ in range(3)), return_exceptions=True)
        store.error = None
        return list(failed), await takes.take(), store.trips

    failed, later, trips = asyncio.run(main())
    assert all(isinstance(e, OSError) for e in failed)
    assert later == 0 and trips == [3, 1]


def test_each_event_loop_has_its_own_queue() -> None:
    """A state used from two loops: the second loop's callers are served even though the
    first loop was closed with its taker still waiting for a slot."""
    store = Store(1)
    takes = GroupTakes(store.take_group, store.give_back)

    async def first() -> None:
        await takes.take()  # the only slot, never given back
        waiter = asyncio.ensure_future(takes.take())  # left waiting when the run ends
        await asyncio.sleep(0.03)
        assert not waiter.done()

    async def second() -> int:
        store.give_back(0)
        return await asyncio.wait_for(takes.take(), 2)

    loop = asyncio.new_event_loop()
    loop.run_until_complete(first())
    loop.close()  # its tasks never finish
    assert asyncio.run(second()) == 1


def test_slots_handed_in_from_outside_go_to_the_waiting_callers_in_order_the_rest_back(
) -> None:
    async def main() -> tuple[list[int], list[int], int, int]:
        store = Store(0, poll=5.0)  # every slot taken: the callers wait
        takes = GroupTakes(store.take_group, store.give_back)
        callers = [asyncio.ensure_future(takes.take()) for _ in range(2)]
        await asyncio.sleep(0.02)
        waiting = takes.waiting()
        takes.hand([7, 8, 9])
        got = list(await asyncio.gather(*callers))
        return got, store.back, waiting, takes.waiting()

    got, back, waiting, after = asyncio.run(main())
    assert (got, back, waiting, after) == ([7, 8], [9], 2, 0)
