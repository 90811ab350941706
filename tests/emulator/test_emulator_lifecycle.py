"""Starting and stopping (also from a signal handler); the pytest plugin; import hygiene."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
import requests

import voigpt.emulator
from tests.emulator.helpers import connection_threads
from voigpt.emulator import Emulator

REPO_ROOT = Path(voigpt.emulator.__file__).resolve().parents[2]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return env


def _refuses(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def _threads_of(emulator: Emulator) -> list[str]:
    """Names of the live threads serving ``emulator`` (accept loop and connections)."""
    prefix = f"voigpt-emulator-{emulator.port}"
    return [t.name for t in threading.enumerate() if t.name.startswith(prefix)]


def test_the_context_manager_uses_a_started_emulator_as_it_is() -> None:
    emulator = Emulator(control=True).start()
    with emulator as entered:
        state = requests.get(entered.url + "/__emulator__/state", timeout=10)
        port = entered.port

    assert entered is emulator
    assert state.status_code == 200
    assert _refuses(port)


def test_context_manager_serves_then_closes_the_port() -> None:
    with Emulator() as emulator:
        port = emulator.port
        assert emulator.url == f"http://127.0.0.1:{port}"
        assert emulator.host == "127.0.0.1"
        assert port > 0
        assert requests.get(emulator.url, timeout=10).status_code == 200

    assert _refuses(port)


def test_stop_is_idempotent_and_ends_idle_keep_alive_connections() -> None:
    emulator = Emulator().start()
    session = requests.Session()
    assert session.get(emulator.url, timeout=10).status_code == 200  # connection stays open
    assert connection_threads(emulator)

    emulator.stop()
    emulator.stop()

    assert _threads_of(emulator) == []
    with pytest.raises(requests.exceptions.ConnectionError):
        session.get(emulator.url, timeout=10)
    session.close()


def test_an_emulator_starts_once() -> None:
    emulator = Emulator()
    with pytest.raises(RuntimeError):
        _ = emulator.port
    emulator.start()
    with pytest.raises(RuntimeError):
        emulator.start()
    emulator.stop()
    with pytest.raises(RuntimeError):
        emulator.start()


SERVE_SCRIPT = textwrap.dedent(
    """
    import signal, sys, threading
    from voigpt.emulator import Emulator

    stopped = threading.Event()

    def stop(*_):
        emulator.stop()
        stopped.set()

    emulator = Emulator()
    if sys.argv[1] == "handler":
        signal.signal(signal.SIGTERM, stop)
    try:
        with emulator:
            print(emulator.url, flush=True)
            stopped.wait()
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    print("stopped", flush=True)
    """
)


@pytest.mark.parametrize(("mode", "sig", "expected"), [
    ("handler", signal.SIGTERM, ["stopped"]),
    ("default", signal.SIGINT, ["interrupted", "stopped"]),
])
def test_foreground_serving_stops_cleanly_on_a_signal(
    mode: str, sig: signal.Signals, expected: list[str]
) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE_SCRIPT, mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        with requests.Session() as session:  # an idle keep-alive connection must not block exit
            assert session.get(url, timeout=10).status_code == 200
            process.send_signal(sig)
            out, err = process.communicate(timeout=20)
    finally:
        process.kill()
        process.wait()

    assert process.returncode == 0, err
    assert out.split() == expected
    assert err == ""


def test_importing_the_package_starts_nothing_and_does_not_import_pytest() -> None:
    code = (
        "import sys, threading, voigpt.emulator\n"
        "print('pytest' in sys.modules, threading.active_count())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=_env(), timeout=30
    )

    assert result.stdout.split() == ["False", "1"], result.stderr


def test_the_pytest_plugin_provides_a_started_emulator_and_stops_it(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["voigpt.emulator.pytest_plugin"]\n')
    (tmp_path / "test_uses_plugin.py").write_text(
        textwrap.dedent(
            """
            import socket
            import urllib.request

            seen = []

            def test_started(voigpt_emulator):
                with urllib.request.urlopen(voigpt_emulator.url + "/") as response:
                    assert response.status == 200
                    assert "csrftoken=" in response.headers["Set-Cookie"]
                seen.append(voigpt_emulator.port)

            def test_stopped_after_the_test():
                try:
                    socket.create_connection(("127.0.0.1", seen[0]), timeout=2).close()
                except ConnectionRefusedError:
                    return
                raise AssertionError("the emulator still listens after its test")
            """
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=tmp_path,
        timeout=60,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
