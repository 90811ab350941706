"""``voigpt chat``'s slash commands and Ctrl-C, as a person meets them: a line that starts
with ``/`` is a command and is never sent; ``//`` sends a line that starts with ``/``; Ctrl-C
at the prompt says so on a line of its own."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import subprocess
import sys
import termios
import time

import pytest

from tests.support.cli import run_cli
from voigpt.emulator import Emulator


def sent_prompts(emu: Emulator) -> list[str]:
    return [json.loads(r.body)["messages"][-1]["content"]
            for r in emu.requests if r.method == "POST"]


class TestSlashCommands:
    def test_an_unknown_command_is_not_sent_and_gets_a_hint(
        self, voigpt_emulator: Emulator
    ) -> None:
        result = run_cli("chat", "--base-url", voigpt_emulator.url,
                         input="/frobnicate\nhello\n")
        assert result.returncode == 0, result.stderr
        assert sent_prompts(voigpt_emulator) == ["hello"]
        assert result.stderr == "voigpt: unknown command /frobnicate; /help lists the commands\n"
        assert result.stdout == "[voigpt emulator] You said: hello\n"

    def test_help_lists_every_command_on_stderr_and_sends_nothing(
        self, voigpt_emulator: Emulator
    ) -> None:
        result = run_cli("chat", "--base-url", voigpt_emulator.url, input="/help\n")
        assert result.returncode == 0, result.stderr
        assert sent_prompts(voigpt_emulator) == []
        assert result.stdout == ""
        for command in ("/help", "/reset", "/exit", "//"):
            assert command in result.stderr

    def test_a_double_slash_sends_the_line_less_one_slash(
        self, voigpt_emulator: Emulator
    ) -> None:
        result = run_cli("chat", "--base-url", voigpt_emulator.url,
                         input="//etc/hosts is a file\n  //x\n")
        assert result.returncode == 0, result.stderr
        assert sent_prompts(voigpt_emulator) == ["/etc/hosts is a file", "  /x"]

    def test_a_known_command_with_words_after_it_is_not_sent(
        self, voigpt_emulator: Emulator
    ) -> None:
        result = run_cli("chat", "--base-url", voigpt_emulator.url, input="/reset now\n")
        assert result.returncode == 0, result.stderr
        assert sent_prompts(voigpt_emulator) == []
        assert "/reset takes nothing after it" in result.stderr


def chat_at_a_terminal() -> tuple[subprocess.Popen[bytes], int]:
    """``voigpt chat --backend fake`` with a pseudo-terminal as its controlling terminal, so
    that Ctrl-C typed into it is a SIGINT, as at a real one."""
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOIGPT_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "voigpt", "chat", "--backend", "fake"],
        stdin=slave, stdout=slave, stderr=slave, env={**env, "TERM": "xterm"},
        start_new_session=True,
        preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),  # after the setsid
    )
    os.close(slave)
    return process, master


def read_until(master: int, seen: bytearray, token: bytes, timeout: float = 30) -> None:
    """Read the terminal into ``seen`` until ``token`` shows; fail if it does not."""
    deadline = time.monotonic() + timeout
    while token not in seen and time.monotonic() < deadline:
        if select.select([master], [], [], 0.1)[0]:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
    assert token in seen, f"{token!r} never showed; the terminal showed {bytes(seen)!r}"


@pytest.mark.skipif(sys.platform == "win32", reason="a pseudo-terminal")
def test_ctrl_c_at_the_prompt_says_interrupted_on_a_new_line_and_exits_130() -> None:
    process, master = chat_at_a_terminal()
    seen = bytearray()
    try:
        read_until(master, seen, b"you> ")
        os.write(master, b"half-typed")
        read_until(master, seen, b"half-typed")
        # CPython's input() notices a SIGINT only while it waits in select(): one that lands
        # as it is still taking the echoed keys waits for the next key. Let it settle first,
        # and press Ctrl-C again if that was lost (a person would).
        time.sleep(0.3)
        os.write(master, b"\x03")  # Ctrl-C
        try:
            read_until(master, seen, b"voigpt: interrupted", timeout=5)
        except AssertionError:
            os.write(master, b"\x03")
            read_until(master, seen, b"voigpt: interrupted")
        assert process.wait(15) == 130
    finally:
        process.kill()
        process.wait()
        os.close(master)
    screen = bytes(seen).decode("utf-8", "replace").replace("\r\n", "\n")
    assert "you> half-typed" in screen
    assert "\nvoigpt: interrupted" in screen, repr(screen)
    assert "half-typedvoigpt" not in screen.replace("^C", "")
