"""simonw's ``llm`` command, as its users run it, against ``voigpt serve``'s chat route: a
plain prompt, and ``-o json_object 1`` (which sends ``response_format: {"type":
"json_object"}``). The server runs here on a real uvicorn over the real emulator, whose
replies each test scripts; ``llm`` runs as its own process, configured the way its docs
say for an OpenAI-compatible server: ``extra-openai-models.yaml`` in ``LLM_USER_PATH``
(a temporary directory, so nothing is written outside it) and the key stored by
``llm keys set voigpt``, never on the prompt's command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.server import Served, served
from voigpt.async_client import AsyncClient
from voigpt.emulator import Emulator
from voigpt.entrypoints.server.settings import ServerSettings

LLM = Path(sys.executable).parent / "llm"
KEY = "sk-llm-cli-user-key"
JSON_RULE = "answer must be only a JSON object"  # voigpt's instruction for a JSON format


@pytest.fixture(scope="module")
def server(site: Emulator) -> Iterator[Served]:
    client = AsyncClient(base_url=site.url, retries=0, timeout=10, environ={})
    with served(client, ServerSettings(api_keys=(KEY,))) as running:
        yield running


@pytest.fixture
def environment(server: Served, tmp_path: Path) -> dict[str, str]:
    """llm's environment: its own user directory in ``tmp_path`` holding the model (an
    OpenAI-compatible one at the server) and its key, and nothing of this process's
    proxies, ``VOIGPT_*``, ``OPENAI_*`` (llm's fallback for a missing key) or ``LLM_*``."""
    home = tmp_path / "llm"
    home.mkdir()
    (home / "extra-openai-models.yaml").write_text(
        "- model_id: voigpt\n"
        "  model_name: gpt-3.5-turbo\n"
        f"  api_base: {server.v1}\n"
        "  api_key_name: voigpt\n")
    environ = {k: v for k, v in os.environ.items()
               if "proxy" not in k.lower()
               and not k.startswith(("VOIGPT_", "OPENAI_", "LLM_", "PYTHON"))}
    environ["LLM_USER_PATH"] = str(home)
    # `llm keys set` prompts for the key; with no controlling terminal (a new session)
    # getpass reads it from stdin instead of waiting on the developer's terminal.
    stored = subprocess.run([LLM, "keys", "set", "voigpt"], input=KEY + "\n", env=environ,
                            cwd=tmp_path, capture_output=True, text=True, timeout=60,
                            start_new_session=True)
    assert stored.returncode == 0, stored.stderr
    assert json.loads((home / "keys.json").read_text())["voigpt"] == KEY
    return environ


def llm(environment: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``llm -m voigpt --no-log ARGS``, in the directory holding llm's user directory."""
    return subprocess.run([LLM, "-m", "voigpt", "--no-log", *args], env=environment,
                          cwd=Path(environment["LLM_USER_PATH"]).parent,
                          capture_output=True, text=True, timeout=60)


def posts(emulator: Emulator) -> list[Any]:
    return [request.json() for request in emulator.requests if request.method == "POST"]


def test_a_plain_prompt_prints_the_reply(environment: dict[str, str],
                                         emulator: Emulator) -> None:
    emulator.queue_replies("Bonjour, Paris!")

    done = llm(environment, "Say hello to Paris")

    assert done.returncode == 0, done.stderr  # the server asks for KEY: llm sent the stored one
    assert done.stdout == "Bonjour, Paris!\n"
    (sent,) = posts(emulator)  # nothing asked: voigpt adds no instruction
    assert sent["messages"] == [{"role": "user", "content": "Say hello to Paris"}]


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "no-stream"])
def test_json_object_gets_only_the_json_object(environment: dict[str, str],
                                               emulator: Emulator, stream: bool) -> None:
    emulator.queue_replies('Sure! {"a": 1}')

    done = llm(environment, "-o", "json_object", "1", *([] if stream else ["--no-stream"]),
               "Give me a JSON object with a = 1")

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"a": 1}  # the prose before it is gone
    (sent,) = posts(emulator)  # response_format reached voigpt: its JSON rule reached the site
    assert sent["messages"][0] == {"role": "user", "content": "Give me a JSON object with a = 1"}
    told = sent["messages"][-1]
    assert told["role"] == "system" and JSON_RULE in told["content"], sent


def test_a_reply_with_no_json_twice_is_llms_error(environment: dict[str, str],
                                                  emulator: Emulator) -> None:
    emulator.queue_replies("Paris is lovely.", "Still no JSON, sorry.")

    done = llm(environment, "-o", "json_object", "1", "Give me a JSON object")

    assert done.returncode != 0
    assert done.stdout == ""
    assert "Error code: 502" in done.stderr, done.stderr
    assert "did not fit what was asked, even after one correction" in done.stderr
    assert "holds no JSON object" in done.stderr
    # Each of llm's attempts is voigpt's ask and its one repair. llm's openai client retries
    # a 502 itself (twice, by default), so the site may see up to three such pairs.
    sent = posts(emulator)
    assert len(sent) in (2, 4, 6), sent
    for ask, repair in zip(sent[::2], sent[1::2], strict=True):
        assert repair["messages"][:-2] == ask["messages"]
        assert repair["messages"][-1]["role"] == "user"
        assert JSON_RULE in repair["messages"][-1]["content"]
    assert sent[1]["messages"][-2] == {"role": "assistant", "content": "Paris is lovely."}
    for request in emulator.requests:
        seen = request.path + json.dumps(request.headers) + request.body.decode()
        assert KEY not in seen
