"""``voigpt ask --json``: a failure is one JSON object on stdout,
``{"error": {"type", "message"}}``, with the exit code it has without ``--json``, nothing on
stderr, and no secret in it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.cli import run_cli
from voigpt.emulator import Emulator

UNREACHABLE = ("--base-url", "http://127.0.0.1:1", "--timeout", "2", "--retries", "0")


def json_error(*args: str, input: str | None = None) -> tuple[int, dict[str, Any], str]:
    """Run ``voigpt ask --json *args``: exit code, stdout's one JSON document, and stderr."""
    result = run_cli("ask", "--json", *args, input=input)
    lines = result.stdout.splitlines()
    assert len(lines) == 1, f"stdout is not one line: {result.stdout!r} (stderr {result.stderr!r})"
    return result.returncode, json.loads(lines[0]), result.stderr


@pytest.mark.parametrize(
    ("args", "code", "type_"),
    [
        ((*UNREACHABLE, "Hi"), 1, "ConnectionFailed"),
        (("--timeout", "soon", "Hi"), 2, "InvalidConfig"),
        (("--backend", "fake", "-"), 2, "InvalidInput"),  # the prompt is empty
        (("--retries",), 2, "UsageError"),  # argparse: expected one argument
        (("--backend", "fake", "Hi", "--bogus"), 2, "UsageError"),
    ],
    ids=["service error", "bad setting", "empty prompt", "bad flag", "unknown flag"],
)
def test_a_failure_is_one_json_object_on_stdout_with_the_usual_exit_code(
    args: tuple[str, ...], code: int, type_: str
) -> None:
    plain = run_cli("ask", *args, input="\n")
    got_code, document, stderr = json_error(*args, input="\n")
    assert (got_code, plain.returncode) == (code, code)
    assert stderr == ""
    assert set(document) == {"error"}
    assert set(document["error"]) == {"type", "message"}
    assert document["error"]["type"] == type_
    assert document["error"]["message"] in plain.stderr  # the same words as without --json


def test_a_rejected_token_is_named_by_type_and_never_shown(voigpt_emulator: Emulator) -> None:
    token = "CANARYtoken0123456789"
    code, document, stderr = json_error(
        "--base-url", voigpt_emulator.url, "--access-token", token, "Hi"
    )
    assert code == 1
    assert document["error"]["type"] == "AccessRejected"
    assert token not in json.dumps(document) + stderr


def test_a_proxy_password_stays_out_of_the_json_error() -> None:
    secret = "CANARYproxypw"
    code, document, _ = json_error(
        *UNREACHABLE, "--proxy", f"http://user:{secret}@127.0.0.1:1", "Hi"
    )
    assert code == 1
    assert "user:***@127.0.0.1:1" in document["error"]["message"]
    assert secret not in json.dumps(document)


def test_verbose_keeps_the_traceback_on_stderr_and_the_json_on_stdout() -> None:
    code, document, stderr = json_error("-v", *UNREACHABLE, "Hi")
    assert code == 1
    assert document["error"]["type"] == "ConnectionFailed"
    assert "Traceback" in stderr


def test_success_is_unchanged(voigpt_emulator: Emulator) -> None:
    code, document, stderr = json_error("--base-url", voigpt_emulator.url, "Hi")
    assert (code, stderr) == (0, "")
    assert document["reply"] == "[voigpt emulator] You said: Hi"


def test_without_json_a_bad_flag_is_still_argparse_usage_on_stderr() -> None:
    result = run_cli("ask", "--retries")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("usage: voigpt ask ")
    assert result.stderr.endswith("voigpt ask: error: argument --retries: expected one argument\n")


def test_a_prompt_after_double_dash_that_reads_json_is_a_prompt() -> None:
    result = run_cli("ask", "--backend", "fake", "--", "--json")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "[voigpt fake] You said: --json\n"
