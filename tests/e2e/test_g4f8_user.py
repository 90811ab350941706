"""A user's script in a fresh interpreter: the real g4f 8 with ``provider=VoiGpt``, every
call through a real proxy process, against the emulator. Nothing of the test's own state
(fixtures, monkeypatches) reaches the script; only g4f's files are kept in a temporary
directory (``G4F_CONFIG_DIR``, and the script runs there)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.messages import EMULATOR_REPLY
from tests.support.proxies import ConnectionOwners, RunningProxy
from voigpt.emulator import Emulator

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = '''
import asyncio
import sys

import g4f
from g4f.client import AsyncClient, Client
from g4f.providers.retry_provider import IterListProvider

from voigpt import VoiGpt

# g4f's first client call starts a thread that checks for a newer g4f and prints what it
# found ("g4f is up-to-date (version 8.8.6)."), here just as the first reply is printed,
# and at times in the middle of that print() call: the line then holds "g4f" and the
# test's filter dropped it. Offline users switch the check off; so does this script.
g4f.debug.version_check = False

VoiGpt.url, proxy = sys.argv[1], sys.argv[2]
messages = [{"role": "user", "content": "Hello"}]

print("create:", g4f.ChatCompletion.create("gpt-3.5-turbo", messages, provider=VoiGpt, proxy=proxy))
client = Client(proxies=proxy)
answer = client.chat.completions.create(messages, "", provider=VoiGpt)
print("client:", answer.choices[0].message.content)
for chunk in client.chat.completions.stream(messages, "", provider=VoiGpt):
    if chunk.choices[0].delta.content:
        print("client stream:", chunk.choices[0].delta.content)
listed = IterListProvider([VoiGpt])
answer = client.chat.completions.create(messages, "", provider=listed)
print("client list:", answer.choices[0].message.content)


async def main() -> None:
    client = AsyncClient(proxies=proxy)
    response = await client.chat.completions.create(messages, "", provider=VoiGpt)
    print("async:", response.choices[0].message.content)
    async for chunk in client.chat.completions.stream(messages, "", provider=VoiGpt):
        if chunk.choices[0].delta.content:
            print("async stream:", chunk.choices[0].delta.content)
    replies = await asyncio.gather(*(
        client.chat.completions.create(messages, "", provider=listed) for _ in range(5)
    ))
    print("async list:", *{r.choices[0].message.content for r in replies})

asyncio.run(main())
'''


@pytest.mark.parametrize("scheme", ["http", "socks5"])
def test_a_users_g4f_script_goes_through_the_proxy(
    watched_emulator: Emulator, connection_owners: ConnectionOwners, proxy: RunningProxy,
    tmp_path: Path, scheme: str,
) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "G4F_CONFIG_DIR": str(tmp_path / "g4f")}
    for name in ("VOIGPT_PROXY", "VOIGPT_BASE_URL", "VOIGPT_BACKEND", "G4F_PROXY"):
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, watched_emulator.url, proxy.url(scheme)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if ":" in line and "g4f" not in line]
    labels = ["create", "client", "client stream", "client list", "async", "async stream",
              "async list"]
    assert lines == [f"{label}: {EMULATOR_REPLY}" for label in labels]
    assert watched_emulator.totals.tokens_issued == 1  # the class-level token, all along
    assert watched_emulator.totals.completions == 11
    assert set(connection_owners.pids) == {proxy.pid}  # not one request went direct
