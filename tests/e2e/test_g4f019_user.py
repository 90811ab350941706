"""The seed's own client against ``voigpt emulator``, as a g4f user runs it: the real g4f
0.1.9.3 (whose ``VoiGpt`` provider voigpt replaces) in a fresh interpreter of its own venv,
``g4f.Provider.VoiGpt.url`` pointed at the emulator, ``g4f.ChatCompletion.create(...)``.
That provider sends ``Origin: https://voigpt.com`` and ``Referer: https://voigpt.com/``
whatever its URL, so the emulator must take voigpt.com's origin for its own.

g4f 0.1.9.3 never touches the project's venv: it is installed once per machine into a venv
in the user's cache (``$VOIGPT_TEST_CACHE``, else ``$XDG_CACHE_HOME/voigpt-tests``, else
``~/.cache/voigpt-tests``), so a fresh clone and every CI run reuse it; PyPI is needed that
once, about a minute. It gets ``--no-deps``, plus the packages ``import g4f`` really imports
(it imports every provider)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.client_venvs import clean_environment, client_python
from voigpt.emulator import reply_for

G4F = "g4f==0.1.9.3"
# What ``import g4f`` 0.1.9.3 imports, found by importing it with --no-deps until it imported;
# the rest of its 27 requirements (fastapi, flask, duckduckgo-search...) it never imports.
IMPORT_NEEDS = (
    "requests", "platformdirs", "browser-cookie3", "aiohttp", "curl-cffi", "selenium",
    "undetected-chromedriver", "py-arkose-generator", "asyncstdlib", "async-property",
    "numpy", "pillow", "PyExecJS",
)
MESSAGES = [
    {"role": "system", "content": "You are helpful."},
    {"role": "user", "content": "Hello from g4f 0.1.9.3"},
]

SCRIPT = """
import json
import sys

import g4f

g4f.debug.version_check = False   # offline: no asking PyPI for a newer g4f
g4f.Provider.VoiGpt.url = sys.argv[1]   # its default is https://voigpt.com
messages = json.loads(sys.argv[2])
for _ in range(2):   # the second call reuses the provider's class-level token
    print(g4f.ChatCompletion.create(
        model="gpt-3.5-turbo", provider=g4f.Provider.VoiGpt, messages=messages,
    ))
"""


@pytest.fixture(scope="session")
def g4f_python() -> Path:
    """The interpreter of a venv holding g4f 0.1.9.3, built once per machine and kept in the
    user's cache (``tests.support.client_venvs``)."""
    return client_python("g4f-0.1.9.3", [["--no-deps", G4F], list(IMPORT_NEEDS)],
                         "import g4f.Provider.VoiGpt")


@pytest.fixture
def emulator_process() -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``voigpt emulator --port 0 -v`` as a person starts it: its URL, and the process
    (whose stderr, read once it stopped, is its log of each request)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "voigpt", "emulator", "--port", "0", "-v"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("VOIGPT_")},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("voigpt emulator listening on http://127.0.0.1:"), line
        yield line.rsplit(" ", 1)[1].strip(), process
    finally:
        process.kill()
        process.wait()


def test_g4f_0193s_own_voigpt_provider_is_served_by_voigpt_emulator(
    g4f_python: Path, emulator_process: tuple[str, subprocess.Popen[str]], tmp_path: Path,
) -> None:
    url, emulator = emulator_process
    env = clean_environment()

    done = subprocess.run(
        [g4f_python, "-c", SCRIPT, url, json.dumps(MESSAGES)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )
    emulator.send_signal(signal.SIGTERM)
    _, log = emulator.communicate(timeout=10)

    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines() == [reply_for(MESSAGES)] * 2
    assert reply_for(MESSAGES) == "[voigpt emulator] You said: Hello from g4f 0.1.9.3"
    posts = [line for line in log.splitlines() if "POST /generate_response/" in line]
    assert len(posts) == 2 and all(
        line.endswith("POST /generate_response/ from Origin 'https://voigpt.com' -> 200")
        for line in posts
    ), log
    gets = [line for line in log.splitlines() if "GET / " in line]
    assert len(gets) == 1 and gets[0].endswith("GET / -> 200"), log  # one token, reused
