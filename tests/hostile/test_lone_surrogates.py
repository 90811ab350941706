"""A site reply holding lone surrogate escapes (``{"response": "a\\ud800b"}``: an emoji cut
in half) is read alike by every entry point: each lone surrogate becomes U+FFFD, a whole
escaped pair stays the emoji, and the rest of the answer is kept. Never a 500, never an
"internal error". The rule lives once, in ``Completion``; here it is seen from the outside:
the library (both transports, the g4f provider), ``voigpt ask`` and ``voigpt batch`` as
processes, and ``voigpt serve`` as a process, plain and streamed."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

import voigpt
from tests.hostile.checks import PYTHON, clean_env
from tests.hostile.conftest import MakeClient
from tests.hostile.servers import HostileServer, normal_except, response, send
from tests.support.server import ServeProcess

Serve = Callable[..., HostileServer]
CUT = rb'{"response": "a\ud800b, \ud83d\ude00 whole, \ude00 alone, \ud83d"}'
SHOWN = "a\ufffdb, \U0001f600 whole, \ufffd alone, \ufffd"
HI = [{"role": "user", "content": "hi"}]


@pytest.fixture
def site(serve: Serve) -> HostileServer:
    """voigpt.com, except that every reply is ``CUT``."""
    return serve(normal_except(post=send(response(200, CUT))))


def test_the_library_replaces_each_lone_surrogate(
    make_client: MakeClient, site: HostileServer
) -> None:
    client = make_client(base_url=site.url, timeout=5)

    completion = client.complete(HI)

    assert completion.text == SHOWN == client.ask("hi")
    assert completion.text.encode("utf-8").decode("utf-8") == SHOWN


def test_the_g4f_provider_replaces_each_lone_surrogate(
    g4f_provider: type[voigpt.VoiGpt], site: HostileServer
) -> None:
    g4f_provider.url = site.url

    plain = next(g4f_provider.create_completion(model="", messages=HI, stream=False))
    awaited = asyncio.run(g4f_provider.create_async(model="", messages=HI))

    assert plain == awaited == SHOWN


def _voigpt(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "voigpt", *args], capture_output=True, text=True, encoding="utf-8",
        timeout=30, env=clean_env(), stdin=subprocess.DEVNULL, cwd=cwd,
    )


@pytest.mark.parametrize("output", ["plain", "--json"])
def test_voigpt_ask_prints_the_reply_with_replacement_characters(
    site: HostileServer, output: str
) -> None:
    flags = ["--json"] if output == "--json" else []

    done = _voigpt("ask", "--base-url", site.url, "--retries", "0", *flags, "hi")

    assert (done.returncode, done.stderr) == (0, "")
    reply = json.loads(done.stdout)["reply"] if flags else done.stdout.removesuffix("\n")
    assert reply == SHOWN


def test_voigpt_batch_writes_the_reply_with_replacement_characters(
    site: HostileServer, tmp_path: Path
) -> None:
    request = {"custom_id": "cut", "method": "POST", "url": "/v1/chat/completions",
               "body": {"model": "gpt-3.5-turbo", "messages": HI}}
    (tmp_path / "in.jsonl").write_text(json.dumps(request) + "\n")

    done = _voigpt("batch", "in.jsonl", "-o", "out.jsonl", "--base-url", site.url,
                   "--retries", "0", "--quiet", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    [line] = (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()
    answer = json.loads(line)["response"]
    assert answer["status_code"] == 200
    assert answer["body"]["choices"][0]["message"]["content"] == SHOWN


def test_voigpt_serve_answers_200_with_replacement_characters_plain_and_streamed(
    site: HostileServer,
) -> None:
    with ServeProcess("--base-url", site.url, "--retries", "0") as server:
        url = server.v1 + "/chat/completions"
        plain = httpx.post(url, json={"messages": HI}, timeout=10)
        with httpx.stream("POST", url, json={"messages": HI, "stream": True},
                          timeout=10) as streamed:
            status, lines = streamed.status_code, list(streamed.iter_lines())

    assert plain.status_code == 200, plain.text
    assert plain.json()["choices"][0]["message"]["content"] == SHOWN
    assert status == 200, lines
    events = [line.removeprefix("data: ") for line in lines if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks) == SHOWN
