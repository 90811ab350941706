"""``voigpt serve -v`` with a key that holds ``\\ < > | { } %`` (which the key rule allows):
the key never shows in its standard error in any form, neither percent-encoded in the
access log's URL nor with its backslash doubled in a logged ``repr``."""

from __future__ import annotations

import json
from urllib.parse import quote

import httpx

from tests.support.server import ServeProcess
from voigpt.emulator import Emulator

KEY = r"sk-odd\key<1>|{2}%3"


def forms_of(key: str, url: str) -> dict[str, str]:
    return {
        "as set": key,
        "percent-encoded": quote(key, safe=""),
        "as httpx sent it": url.partition("api_key=")[2],
        "repr": repr(key)[1:-1],
        "JSON": json.dumps(key)[1:-1],
    }


def test_a_key_with_characters_that_get_encoded_never_shows_in_stderr(site: Emulator) -> None:
    process = ServeProcess("-v", "--log-prompts", "--api-key", KEY, "--base-url", site.url)
    keyed = {"Authorization": f"Bearer {KEY}"}
    in_url = httpx.get(process.v1 + "/models", params={"api_key": KEY}, timeout=10)
    pasted = httpx.post(process.v1 + "/chat/completions", headers=keyed, timeout=10,
                        json={"messages": [{"role": "user", "content": f"my key: {KEY}"}]})
    code, _, stderr = process.stop()
    assert in_url.status_code == 401
    assert pasted.status_code == 200, pasted.text
    assert code == 0
    # The lines that would carry the key are there (so their scrubbing means something)...
    assert "/v1/models?api_key=***" in stderr, stderr
    assert "my key: ***" in stderr, stderr
    # ...and show it in no form.
    for form, shown in forms_of(KEY, str(in_url.request.url)).items():
        assert shown not in stderr, form
