"""The async path without aiohttp-socks, as g4f 8 users have it after ``pip install voigpt``
(g4f brings aiohttp, not aiohttp-socks): a fresh interpreter where importing aiohttp-socks
or python-socks fails drives g4f 8's ``AsyncClient`` with ``provider=VoiGpt`` and voigpt's
own ``AsyncClient`` against the emulator. A SOCKS proxy there is refused when the client is
built, with an error that names the extra, and the proxy never sees a connection."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.messages import EMULATOR_REPLY
from voigpt.emulator import Emulator

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = '''
import sys

sys.modules["aiohttp_socks"] = None  # as if not installed: importing it fails
sys.modules["python_socks"] = None

import asyncio

import g4f
from g4f.client import AsyncClient

import voigpt
from voigpt import VoiGpt

g4f.debug.version_check = False
VoiGpt.url, socks = sys.argv[1], sys.argv[2]
messages = [{"role": "user", "content": "Hello"}]


async def main() -> None:
    reply = await AsyncClient().chat.completions.create(messages, "", provider=VoiGpt)
    print("g4f async:", reply.choices[0].message.content)
    async with voigpt.AsyncClient(base_url=VoiGpt.url, environ={}) as client:
        print("voigpt async:", await client.ask("Hello"))
    try:
        await VoiGpt.create_async("", messages, proxy=socks)
    except voigpt.VoiGptError as exc:
        print("g4f socks:", type(exc).__name__, exc)


asyncio.run(main())
try:
    voigpt.AsyncClient(base_url=VoiGpt.url, environ={}, proxy=socks)
except voigpt.VoiGptError as exc:
    print("voigpt socks:", type(exc).__name__, exc)
'''


@pytest.fixture
def silent_proxy() -> Iterator[socket.socket]:
    """A listening socket standing in for a SOCKS proxy; nobody accepts."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        yield listener


def _connected(listener: socket.socket) -> bool:
    listener.setblocking(False)
    try:
        connection, _ = listener.accept()
    except BlockingIOError:
        return False
    connection.close()
    return True


def test_the_async_path_needs_no_aiohttp_socks_until_a_socks_proxy_is_used(
    emulator: Emulator, silent_proxy: socket.socket, tmp_path: Path,
) -> None:
    socks = f"socks5://user:hunter2-pw@127.0.0.1:{silent_proxy.getsockname()[1]}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "G4F_CONFIG_DIR": str(tmp_path / "g4f")}
    for name in [*(n for n in env if n.startswith("VOIGPT_")), "G4F_PROXY"]:
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, emulator.url, socks],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if "g4f is" not in line]
    assert lines[:2] == [f"g4f async: {EMULATOR_REPLY}", f"voigpt async: {EMULATOR_REPLY}"]
    refusals = lines[2:]
    assert [line.partition(" InvalidConfig ")[0] for line in refusals] == [
        "g4f socks:", "voigpt socks:",
    ], done.stdout
    for line in refusals:
        assert "pip install 'voigpt[async]'" in line
        assert "aiohttp-socks" in line
        assert "hunter2-pw" not in line
    assert not _connected(silent_proxy)
    assert "ModuleNotFoundError" not in done.stderr
