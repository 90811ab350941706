"""``voigpt.testing.pytest_plugin`` in a user's own pytest run."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

USERS_TESTS = """
    import socket
    import requests

    ports = []

    def test_fakes_wire_the_real_use_case(voigpt_fakes):
        client = voigpt_fakes.client()
        assert client.ask("Hi") == "[voigpt fake] You said: Hi"
        assert voigpt_fakes.token_source.token_fetches == 1

    def test_each_test_gets_fresh_fakes(voigpt_fakes):
        assert voigpt_fakes.transport.sent == []

    def test_the_emulator_is_started(voigpt_emulator):
        assert "csrftoken" in requests.get(voigpt_emulator.url + "/", timeout=5).cookies
        ports.append(voigpt_emulator.port)

    def test_the_emulator_is_stopped_after_its_test():
        try:
            socket.create_connection(("127.0.0.1", ports[0]), timeout=2).close()
        except ConnectionRefusedError:
            return
        raise AssertionError("the emulator still listens after its test")
"""


def test_the_plugin_gives_fakes_and_an_emulator_per_test(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["voigpt.testing.pytest_plugin"]\n')
    (tmp_path / "test_users.py").write_text(textwrap.dedent(USERS_TESTS))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VOIGPT_", "PYTEST_"))}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout
