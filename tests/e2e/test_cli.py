"""The CLI from a person's side: what it prints, what it sends, how it exits."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import requests

from tests.support.cli import run_cli
from tests.support.proxies import ConnectionOwners, RunningProxy
from voigpt.emulator import Emulator, reply_for

COMMANDS = ["ask", "chat", "serve", "batch", "emulator"]


def sent_messages(emu: Emulator) -> list[list[dict[str, str]]]:
    posts = [r for r in emu.requests if r.method == "POST"]
    return [json.loads(r.body)["messages"] for r in posts]


class TestAsk:
    def test_local_backend_answers_offline_with_only_the_reply_on_stdout(self) -> None:
        result = run_cli("ask", "--backend", "local", "Hello there")
        assert result.returncode == 0, result.stderr
        assert result.stdout == "[voigpt emulator] You said: Hello there\n"
        assert result.stderr == ""

    def test_system_message_goes_first(self, voigpt_emulator: Emulator) -> None:
        result = run_cli("ask", "--base-url", voigpt_emulator.url, "--system", "Be brief", "Hi")
        assert result.returncode == 0, result.stderr
        assert sent_messages(voigpt_emulator) == [
            [{"role": "system", "content": "Be brief"}, {"role": "user", "content": "Hi"}]
        ]

    def test_dash_reads_the_prompt_from_stdin(self, voigpt_emulator: Emulator) -> None:
        result = run_cli("ask", "--base-url", voigpt_emulator.url, "-", input="from a pipe\n")
        assert result.stdout == reply_for([{"role": "user", "content": "from a pipe"}]) + "\n"

    def test_json_prints_reply_model_and_elapsed(self, voigpt_emulator: Emulator) -> None:
        url = voigpt_emulator.url
        result = run_cli("ask", "--base-url", url, "--json", "--model", "gpt-4", "Hi")
        document = json.loads(result.stdout)
        assert document["reply"] == "[voigpt emulator] You said: Hi"
        assert document["model"] == "gpt-4"
        assert isinstance(document["elapsed_seconds"], float)

    def test_environment_is_honoured(self, voigpt_emulator: Emulator) -> None:
        result = run_cli("ask", "Hi", env={"VOIGPT_BASE_URL": voigpt_emulator.url})
        assert result.returncode == 0, result.stderr
        assert voigpt_emulator.completions == 1

    def test_flags_win_over_the_environment(self, voigpt_emulator: Emulator) -> None:
        env = {"VOIGPT_BASE_URL": "http://127.0.0.1:1", "VOIGPT_BACKEND": "fake"}
        url = voigpt_emulator.url
        result = run_cli("ask", "--base-url", url, "--backend", "http", "Hi", env=env)
        assert result.returncode == 0, result.stderr
        assert voigpt_emulator.completions == 1

    def test_proxy_from_the_environment_carries_both_requests(
        self, watched_emulator: Emulator, connection_owners: ConnectionOwners, proxy: RunningProxy
    ) -> None:
        env = {"VOIGPT_PROXY": proxy.url("socks5h"), "VOIGPT_BASE_URL": watched_emulator.url}
        result = run_cli("ask", "Hi", env=env)
        assert result.returncode == 0, result.stderr
        assert [r.method for r in watched_emulator.requests] == ["GET", "POST"]
        assert connection_owners.pids == [proxy.pid, proxy.pid]


class TestChat:
    def test_keeps_history_so_the_second_turn_sends_user_assistant_user(
        self, voigpt_emulator: Emulator
    ) -> None:
        result = run_cli("chat", "--base-url", voigpt_emulator.url, input="first\nsecond\n")
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines() == [
            "[voigpt emulator] You said: first",
            "[voigpt emulator] You said: second",
        ]
        assert [[m["role"] for m in turn] for turn in sent_messages(voigpt_emulator)] == [
            ["user"],
            ["user", "assistant", "user"],
        ]
        second_turn = sent_messages(voigpt_emulator)[1]
        assert second_turn[1]["content"] == "[voigpt emulator] You said: first"

    def test_reset_forgets_history_but_keeps_the_system_message(
        self, voigpt_emulator: Emulator
    ) -> None:
        result = run_cli(
            "chat", "--base-url", voigpt_emulator.url, "--system", "S",
            input="a\n/reset\nb\n/exit\nnever sent\n",
        )
        assert result.returncode == 0, result.stderr
        assert [[m["role"] for m in turn] for turn in sent_messages(voigpt_emulator)] == [
            ["system", "user"],
            ["system", "user"],
        ]

    def test_stops_with_exit_1_at_the_first_service_error_when_piped(self) -> None:
        result = run_cli("chat", "--base-url", "http://127.0.0.1:1", "--timeout", "2", input="a\n")
        assert result.returncode == 1
        assert "could not connect to http://127.0.0.1:1/" in result.stderr


class TestErrors:
    def test_bad_input_is_one_line_and_exit_2(self) -> None:
        result = run_cli("ask", "--timeout", "soon", "Hi")
        assert result.returncode == 2
        assert result.stderr == "voigpt: error: --timeout must be a number of seconds, got 'soon'\n"

    def test_an_empty_prompt_is_bad_input(self) -> None:
        result = run_cli("ask", "--backend", "fake", "-", input="\n")
        assert (result.returncode, result.stderr) == (2, "voigpt: error: the prompt is empty\n")

    def test_unknown_backend_is_a_usage_error(self) -> None:
        result = run_cli("ask", "--backend", "carrier-pigeon", "Hi")
        assert result.returncode == 2
        assert "invalid choice" in result.stderr

    def test_an_unreachable_server_is_reported_within_the_timeout_naming_the_url(self) -> None:
        started = time.monotonic()
        result = run_cli("ask", "--base-url", "http://127.0.0.1:1", "--timeout", "3", "Hi")
        assert result.returncode == 1
        assert time.monotonic() - started < 20
        assert "http://127.0.0.1:1/" in result.stderr
        assert "Traceback" not in result.stderr
        assert len(result.stderr.splitlines()) == 1

    def test_secrets_stay_out_of_errors_even_with_verbose(self, voigpt_emulator: Emulator) -> None:
        token = "CANARYtoken0123456789"
        proxy_pw = "CANARYproxypw"
        result = run_cli(
            "ask", "-v", "--base-url", voigpt_emulator.url, "--access-token", token, "Hi",
        )
        assert result.returncode == 1
        assert "AccessRejected" in result.stderr
        assert "Traceback" in result.stderr
        assert token not in result.stderr + result.stdout
        result = run_cli(
            "ask", "-v", "--base-url", "http://127.0.0.1:1", "--timeout", "2",
            "--proxy", f"http://user:{proxy_pw}@127.0.0.1:1", "Hi",
        )
        assert result.returncode == 1
        assert "user:***@127.0.0.1:1" in result.stderr
        assert proxy_pw not in result.stderr + result.stdout


def test_emulator_command_serves_until_sigterm() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "voigpt", "emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("VOIGPT_")},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("voigpt emulator listening on http://127.0.0.1:")
        url = line.rsplit(" ", 1)[1].strip()
        assert "csrftoken" in requests.get(url + "/", timeout=5).cookies
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
        assert "stopped" in process.stdout.read()
    finally:
        process.kill()
        process.wait()


def test_help_lists_the_commands() -> None:
    result = run_cli("--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: voigpt ")
    listed = re.findall(r"^ {4}(\w+) ", result.stdout, re.M)  # argparse's list of subcommands
    assert listed == COMMANDS


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_its_own_help(command: str) -> None:
    result = run_cli(command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: voigpt {command} ")
