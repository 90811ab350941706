"""g4f 8's OpenAI-compatible API server (``g4f[api]``) serving ``VoiGpt``, as the README
shows: the class registered under its name in g4f's provider registry, made the default, and
``run_api`` started, in a separate process, against the emulator. Offline, importing
``g4f.api`` would fetch g4f.dev's provider list; the test gives it its daily cache file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.g4f_offline import offline_config_dir
from tests.support.messages import EMULATOR_REPLY
from tests.support.ports import unused_port
from voigpt.emulator import Emulator

ROOT = Path(__file__).resolve().parents[2]

# The README's recipe, with the site and port from the command line.
SERVE = '''
import sys

from g4f.api import AppConfig, run_api
from g4f.Provider import ProviderLoader

from voigpt import VoiGpt

VoiGpt.url = sys.argv[2]
ProviderLoader.loaded["VoiGpt"] = ProviderLoader.loaded["voigpt"] = VoiGpt
AppConfig.set_config(provider="VoiGpt")
run_api(host="127.0.0.1", port=int(sys.argv[1]))
'''



@pytest.fixture
def api_server(voigpt_emulator: Emulator, tmp_path: Path) -> Iterator[str]:
    config = offline_config_dir(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "G4F_CONFIG_DIR": str(config)}
    for name in ("VOIGPT_PROXY", "VOIGPT_BASE_URL", "VOIGPT_BACKEND", "G4F_PROXY"):
        env.pop(name, None)
    port = unused_port()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(port), voigpt_emulator.url],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
            try:
                urllib.request.urlopen(f"{base}/v1/models", timeout=2).close()
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, "the API server did not start in 30 s"
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(5)


def post(url: str, body: dict[str, object]) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


HELLO = [{"role": "developer", "content": "Be brief."}, {"role": "user", "content": "Hello"}]


def test_the_api_server_answers_with_voigpt(api_server: str, voigpt_emulator: Emulator) -> None:
    # The default provider, then one named in the body, then the provider's own route.
    for url, extra in [
        (f"{api_server}/v1/chat/completions", {}),
        (f"{api_server}/v1/chat/completions", {"provider": "VoiGpt"}),
        (f"{api_server}/api/VoiGpt/chat/completions", {}),
    ]:
        status, body = post(url, {"model": "gpt-3.5-turbo", "messages": HELLO, **extra})
        assert status == 200, body
        answer = json.loads(body)
        assert answer["provider"] == "VoiGpt"
        assert answer["choices"][0]["message"]["content"] == EMULATOR_REPLY
    assert voigpt_emulator.totals.completions == 3
    assert voigpt_emulator.totals.tokens_issued == 1


def test_the_api_server_streams_the_reply(api_server: str) -> None:
    status, body = post(f"{api_server}/v1/chat/completions",
                        {"model": "", "messages": HELLO, "stream": True})
    assert status == 200, body
    events = [line[6:] for line in body.decode().splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    texts = [json.loads(event)["choices"][0]["delta"].get("content") for event in events[:-1]]
    assert "".join(text or "" for text in texts) == EMULATOR_REPLY


def test_the_api_server_lists_the_model(api_server: str) -> None:
    with urllib.request.urlopen(f"{api_server}/api/VoiGpt/models", timeout=10) as response:
        models = json.loads(response.read())
    assert [model["id"] for model in models["data"]] == ["gpt-3.5-turbo"]


def test_what_cannot_be_sent_is_an_error_and_sends_nothing(
    api_server: str, voigpt_emulator: Emulator
) -> None:
    image = [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
    ]}]
    status, _ = post(f"{api_server}/v1/chat/completions", {"model": "", "messages": image})
    assert status >= 400
    assert voigpt_emulator.totals.requests == 0
