"""Many threads share one client over real HTTP: one token fetch, every reply correct."""

from __future__ import annotations

import threading

from voigpt import Client
from voigpt.emulator import Emulator, reply_for


def test_sixteen_threads_on_a_cold_start_make_320_calls_and_fetch_the_token_once(
    voigpt_emulator: Emulator,
) -> None:
    emu = voigpt_emulator
    with Client(base_url=emu.url, environ={}) as client:
        barrier = threading.Barrier(16)
        replies: dict[int, list[str]] = {}
        failures: list[BaseException] = []

        def work(n: int) -> None:
            try:
                barrier.wait()
                replies[n] = [
                    client.ask(f"thread {n} call {i}") for i in range(20)
                ]
            except BaseException as exc:  # reported by the assertion below
                failures.append(exc)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)

        assert failures == []
        assert sum(len(r) for r in replies.values()) == 320
        for n, got in replies.items():
            expected = [
                reply_for([{"role": "user", "content": f"thread {n} call {i}"}])
                for i in range(20)
            ]
            assert got == expected
        assert len(emu.tokens_issued) == 1
        assert emu.completions == 320
        assert emu.rejections == []
