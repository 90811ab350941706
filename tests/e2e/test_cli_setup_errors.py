"""Errors in how a command is set up, worded for the command line: an address the emulator
cannot listen on names ``--host`` (exit 2); a missing optional extra names the extra to
install and the flag that avoids it, never a Python keyword."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from tests.support.cli import run_cli
from tests.support.ports import busy_port
from voigpt.emulator import Emulator

__all__ = ["busy_port"]  # the module's fixtures

REQUEST = json.dumps({"custom_id": "q", "method": "POST", "url": "/v1/chat/completions",
                      "body": {"messages": [{"role": "user", "content": "Hi"}]}}) + "\n"


class TestEmulatorAddress:
    def test_a_host_that_does_not_resolve_is_exit_2_naming_it(self) -> None:
        result = run_cli("emulator", "--host", "nosuch.invalid", "--port", "0")
        assert result.returncode == 2
        assert result.stderr.startswith(
            "voigpt: error: --host nosuch.invalid does not resolve to an address ("
        )
        assert len(result.stderr.splitlines()) == 1
        assert "Errno" not in result.stderr

    def test_a_host_with_spaces_is_quoted_as_a_shell_would(self) -> None:
        result = run_cli("emulator", "--host", "bad host", "--port", "0")
        assert result.returncode == 2
        assert result.stderr.startswith("voigpt: error: --host 'bad host' does not resolve")

    def test_a_busy_port_is_exit_2_naming_host_and_port(self, busy_port: int) -> None:
        result = run_cli("emulator", "--port", str(busy_port))
        assert result.returncode == 2
        assert result.stderr == (
            f"voigpt: error: cannot listen on --host 127.0.0.1 --port {busy_port}: "
            f"{os.strerror(errno.EADDRINUSE)}\n"
        )


def without(tmp_path: Path, *modules: str) -> dict[str, str]:
    """An environment whose Python cannot import ``modules``, as if the extra that brings
    them were not installed (a ``sitecustomize`` that blocks them)."""
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import sys\n" + "".join(f"sys.modules[{name!r}] = None\n" for name in modules)
    )
    return {"PYTHONPATH": os.pathsep.join(filter(None, [str(blocker),
                                                        os.environ.get("PYTHONPATH")]))}


class TestMissingExtras:
    @pytest.mark.parametrize("backend", ["http", "local"])
    def test_batch_without_aiohttp_names_the_extra_and_the_flag(
        self, tmp_path: Path, backend: str
    ) -> None:
        source = tmp_path / "in.jsonl"
        source.write_text(REQUEST)
        result = run_cli("batch", str(source), "-o", str(tmp_path / "out.jsonl"),
                         "--backend", backend, env=without(tmp_path, "aiohttp", "aiohttp_socks"))
        assert result.returncode == 2
        assert "pip install 'voigpt[batch]'" in result.stderr
        assert "--backend fake" in result.stderr
        assert "backend=" not in result.stderr
        assert len(result.stderr.splitlines()) == 1
        assert not (tmp_path / "out.jsonl").exists()

    def test_batch_with_a_socks_proxy_without_aiohttp_socks_names_the_extra(
        self, tmp_path: Path
    ) -> None:
        source = tmp_path / "in.jsonl"
        source.write_text(REQUEST)
        result = run_cli("batch", str(source), "-o", str(tmp_path / "out.jsonl"),
                         "--proxy", "socks5://user:CANARYpw@127.0.0.1:1", "--timeout", "2",
                         env=without(tmp_path, "aiohttp_socks"))
        assert result.returncode == 2
        assert "aiohttp-socks" in result.stderr
        assert "pip install 'voigpt[" in result.stderr
        assert "CANARYpw" not in result.stderr
        assert len(result.stderr.splitlines()) == 1

    def test_batch_with_the_fake_backend_needs_no_extra(self, tmp_path: Path) -> None:
        output = tmp_path / "out.jsonl"
        result = run_cli("batch", "-", "-o", str(output), "--backend", "fake", "--quiet",
                         input=REQUEST, env=without(tmp_path, "aiohttp", "aiohttp_socks"))
        assert result.returncode == 0, result.stderr
        assert len(output.read_text().splitlines()) == 1


def test_a_rejected_token_hint_names_the_flag_not_the_keyword(voigpt_emulator: Emulator) -> None:
    result = run_cli("ask", "--base-url", voigpt_emulator.url,
                     "--access-token", "CANARYtoken0123456789", "Hi")
    assert result.returncode == 1
    assert "pass no --access-token" in result.stderr
    assert "access_token" not in result.stderr
    assert "CANARYtoken0123456789" not in result.stderr
