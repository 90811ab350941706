"""Class 5: the command line. Every failure is ONE line on stderr (an argparse usage line
before it aside) with the documented exit code (0 success, 1 service or network error,
2 usage or bad input, 130 interrupted), and never a traceback; a closed pipe is a quiet
exit. The CLI runs as a subprocess (``python -m voigpt``) with no ``VOIGPT_*`` variables,
under a UTF-8 locale."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.hostile.checks import PYTHON, clean_env
from tests.hostile.servers import (
    Conn,
    HostileServer,
    Request,
    new_token,
    normal_except,
    response,
    stall,
)
from tests.support.ports import busy_port

__all__ = ["busy_port"]  # the module's fixtures
Serve = Callable[..., HostileServer]
TRACEBACK = b"Traceback (most recent call last)"
# 141 = 128 + SIGPIPE, what a shell reports for a writer whose reader went away (the
# intended exit); -13 is the same death seen by Popen (killed by SIGPIPE, no exit code);
# 0 (quiet success) is accepted too.
QUIET_PIPE_EXITS = (0, 141, -signal.SIGPIPE)


def voigpt(
    *args: str | bytes, stdin: bytes | None = None, env: dict[str, str] | None = None,
    timeout: float = 30, **popen: Any,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``python -m voigpt *args``; stdout and stderr captured unless ``popen`` says
    otherwise; stdin empty unless given."""
    options: dict[str, Any] = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE,
                               "stdin": subprocess.DEVNULL, **popen}
    if stdin is not None:
        options.pop("stdin")
    command: list[str | bytes] = [PYTHON, "-m", "voigpt", *args]
    done: subprocess.CompletedProcess[bytes] = subprocess.run(
        command, input=stdin, timeout=timeout, env=env or clean_env(), **options
    )
    return done


def error_lines(stderr: bytes) -> list[str]:
    """stderr's lines, without argparse's ``usage:`` block."""
    lines, in_usage = [], False
    for line in stderr.decode("utf-8", errors="replace").splitlines():
        if line.startswith("usage:"):
            in_usage = True
            continue
        if in_usage and line.startswith(" "):
            continue
        in_usage = False
        if line.strip():
            lines.append(line)
    return lines


def assert_one_line(done: subprocess.CompletedProcess[bytes], codes: Sequence[int], what: str,
                    ) -> None:
    shown = done.stderr.decode("utf-8", errors="replace")[-1500:]
    assert TRACEBACK not in done.stderr, f"{what}: a traceback (exit {done.returncode}):\n{shown}"
    lines = error_lines(done.stderr)
    assert len(lines) == 1, f"{what}: {len(lines)} error lines, not 1 (exit {done.returncode}):\n" \
                            f"{shown}"
    assert done.returncode in codes, (
        f"{what}: exit {done.returncode}, expected {' or '.join(map(str, codes))}: {lines}"
    )


# -- standard input ------------------------------------------------------------------------------

BINARY = b"\xff\xfe\x00"
LOCALES = {
    "C.UTF-8": {"LC_ALL": "C.UTF-8"},
    "utf-8-strict": {"LC_ALL": "C.UTF-8", "PYTHONIOENCODING": "utf-8"},
    "utf-8-mode": {"LC_ALL": "C.UTF-8", "PYTHONUTF8": "1"},
}


@pytest.mark.parametrize("data", [BINARY, b"hello \xe9t\xe9", b"\xed\xa0\x80"],
                         ids=["ff-fe-00", "latin-1", "encoded-surrogate"])
@pytest.mark.parametrize("locale", list(LOCALES))
def test_ask_with_binary_stdin_is_bad_input(locale: str, data: bytes) -> None:
    done = voigpt("ask", "--backend", "fake", "-", stdin=data, env=clean_env(**LOCALES[locale]))

    assert_one_line(done, (2,), f"ask - with {data!r} on stdin, {locale}")


@pytest.mark.parametrize("locale", ["C.UTF-8", "utf-8-strict"])
def test_chat_with_binary_stdin_is_one_line(locale: str) -> None:
    done = voigpt("chat", "--backend", "fake", stdin=b"hi\n" + BINARY + b"\n",
                  env=clean_env(**LOCALES[locale]))

    assert_one_line(done, (2,), f"chat with binary stdin, {locale}")


def test_non_utf8_prompt_argument_is_bad_input() -> None:
    done = voigpt(b"ask", b"--backend", b"fake", b"caf\xe9 \xff")

    assert_one_line(done, (2,), "ask with a non-UTF-8 argument")


def _closed_stdin(*args: str) -> subprocess.CompletedProcess[bytes]:
    script = 'exec "$0" -m voigpt "$@" <&-'
    return subprocess.run(["sh", "-c", script, PYTHON, *args], capture_output=True,
                          timeout=30, env=clean_env())


def test_ask_with_closed_stdin_is_bad_input() -> None:
    done = _closed_stdin("ask", "--backend", "fake", "-")

    assert_one_line(done, (2,), "ask - with stdin closed")


def test_chat_with_closed_stdin_ends_or_is_bad_input() -> None:
    done = _closed_stdin("chat", "--backend", "fake")

    assert TRACEBACK not in done.stderr, (
        f"chat with stdin closed: a traceback (exit {done.returncode}):\n"
        + done.stderr.decode(errors="replace")[-1500:]
    )
    assert done.returncode in (0, 2), (done.returncode, error_lines(done.stderr))
    assert len(error_lines(done.stderr)) <= 1, error_lines(done.stderr)


# -- settings and the emulator -------------------------------------------------------------------

@pytest.mark.parametrize(
    "args",
    [
        ["--timeout", "1e300"], ["--timeout", "1e999"], ["--timeout", "nan"],
        ["--timeout", "-1"], ["--timeout", "inf"], ["--retries", "1e300"],
        ["--base-url", "http://[::1"], ["--base-url", "http://127.0.0.1:1/a\x01b"],
        ["--base-url", "http://" + "a" * 64 + ".com"], ["--base-url", "http://127.0.0.1:99999"],
        ["--proxy", "http://用户:€@127.0.0.1:1"], ["--proxy", "ftp://u:p@127.0.0.1:1"],
        ["--access-token", "a\r\nb"], ["--access-token", "a;b"],
    ],
    ids=lambda args: " ".join(args)[:40],
)
def test_bad_settings_are_one_line_and_exit_2(args: list[str]) -> None:
    done = voigpt("ask", "--backend", "fake", *args, "hi")

    assert_one_line(done, (2,), f"voigpt ask {' '.join(args)!r}")


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_unusable_ca_bundle_is_one_line_and_exit_2(tmp_path: Path, variable: str) -> None:
    bundle = tmp_path / "not.pem"
    bundle.write_text("not a certificate\n")
    env = clean_env(**{variable: str(bundle)})

    done = voigpt("ask", "--base-url", "https://127.0.0.1:1", "--timeout", "2", "hi", env=env)

    assert_one_line(done, (2,), f"{variable} pointing at a non-PEM file")


@pytest.mark.parametrize(
    "args",
    [["--port", "99999"], ["--port", "-1"], ["--port", "\u0668\u0660"], ["--port", "http"],
     ["--host", "999.999.999.999", "--port", "0"], ["--host", "bad host name", "--port", "0"],
     ["--host", "nosuch.invalid", "--port", "0"]],
    ids=lambda args: " ".join(args),
)
def test_emulator_with_a_bad_address_is_one_line(args: list[str]) -> None:
    done = voigpt("emulator", *args, timeout=20)

    assert_one_line(done, (2,), f"voigpt emulator {' '.join(args)}")


def test_emulator_on_a_busy_port_is_one_line(busy_port: int) -> None:
    done = voigpt("emulator", "--port", str(busy_port), timeout=20)

    assert_one_line(done, (2,), f"voigpt emulator on a busy port {busy_port}")


# -- hostile servers -----------------------------------------------------------------------------

def reflect_403(conn: Conn, request: Request) -> None:
    conn.send(response(403, f"<p>CSRF token {request.token} rejected</p>",
                       content_type="text/html"))


def send_and_close(data: bytes) -> Callable[[Conn, Request], None]:
    def answer(conn: Conn, request: Request) -> None:
        conn.send(data)
        conn.close()

    return answer


HOSTILE_POSTS: dict[str, Callable[[Conn, Request], None]] = {
    "reflects-token-403": reflect_403,
    "nested-json": send_and_close(response(200, b"[" * 100_000)),
    "charset-rot13": send_and_close(response(200, b'{"x": 1}',
                                             content_type="application/json; charset=rot13")),
    "garbage-status-line": send_and_close(b"HTTP/1.1 2OO OK\r\n\r\n"),
    "content-length-arabic-digits": send_and_close(
        "HTTP/1.1 200 OK\r\nContent-Length: \u0661\u0662\r\n\r\n{}".encode()),
}


@pytest.mark.parametrize("case", list(HOSTILE_POSTS))
@pytest.mark.parametrize("token_kind", ["explicit", "fetched"])
def test_hostile_server_is_one_line_exit_1_and_no_token(
    serve: Serve, case: str, token_kind: str
) -> None:
    server = serve(normal_except(post=HOSTILE_POSTS[case]))
    token = new_token()
    args = ["--access-token", token] if token_kind == "explicit" else []

    done = voigpt("ask", "--base-url", server.url, "--timeout", "2", "--retries", "0", *args,
                  "hi")

    assert_one_line(done, (1,), f"{case} ({token_kind} token)")
    secrets = [token, *server.issued]
    output = done.stdout + done.stderr
    leaked = [secret[:6] + "..." for secret in secrets if secret.encode() in output]
    assert not leaked, f"{case}: the CLI printed a token {leaked}: {output[-600:]!r}"


@pytest.mark.parametrize("token_kind", ["explicit", "fetched"])
def test_verbose_output_never_shows_a_reflected_token(serve: Serve, token_kind: str) -> None:
    """``-v`` adds the debug log and the traceback; neither may carry a token."""
    server = serve(normal_except(post=reflect_403))
    token = new_token()
    args = ["--access-token", token] if token_kind == "explicit" else []

    done = voigpt("ask", "-v", "--base-url", server.url, "--timeout", "2", "--retries", "0",
                  *args, "hi")

    assert done.returncode == 1, done.stderr[-800:]
    output = done.stdout + done.stderr
    secrets = [token, *server.issued]
    leaked = [secret[:6] + "..." for secret in secrets if secret.encode() in output]
    assert not leaked, f"-v printed a token {leaked}: {output.decode(errors='replace')[-900:]}"


def test_interrupt_is_exit_130_and_one_line(serve: Serve) -> None:
    server = serve(normal_except(post=stall))
    process = subprocess.Popen(
        [PYTHON, "-m", "voigpt", "ask", "--base-url", server.url, "--timeout", "20", "hi"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env(),
    )
    deadline = time.monotonic() + 15
    while not server.seen("POST") and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=15)

    assert_one_line(subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr),
                    (130,), "Ctrl-C during a call")


# -- closed and failing output --------------------------------------------------------------------

@pytest.mark.parametrize(
    "args", [["ask"], ["ask", "--json"], ["chat"]], ids=lambda args: " ".join(args)
)
def test_closed_pipe_is_a_quiet_exit(args: list[str]) -> None:
    """``voigpt ask - < 1 MB | head -c1``: the echoing fake backend's reply hits the closed
    pipe. Nothing on stderr (no "Broken pipe", no traceback), and not exit 1."""
    prompt = b"a" * 1_000_000 + b"\n"
    command = [PYTHON, "-m", "voigpt", *args, "--backend", "fake"]
    if args[0] == "ask":
        command.append("-")
    else:
        prompt = b"".join(b"line %d %s\n" % (n, b"b" * 100_000) for n in range(10))
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=clean_env())
    assert process.stdin is not None and process.stdout is not None
    assert process.stderr is not None
    writer = threading.Thread(target=_feed, args=(process.stdin, prompt), daemon=True)
    writer.start()
    first = process.stdout.read(1)
    process.stdout.close()  # the reader goes away, as `head -c1` does
    stderr = process.stderr.read()
    process.wait(timeout=30)
    writer.join(5)

    assert first, f"nothing was written (exit {process.returncode}): {stderr[-600:]!r}"
    assert stderr == b"", f"{args}: stderr after a closed pipe: {stderr[-800:]!r}"
    assert process.returncode in QUIET_PIPE_EXITS, (
        f"{args}: exit {process.returncode} after a closed pipe; expected 141 (or 0)"
    )


def _feed(pipe: Any, data: bytes) -> None:
    try:
        pipe.write(data)
        pipe.close()
    except (BrokenPipeError, ValueError):
        pass


def test_closed_pipe_through_a_shell_is_quiet() -> None:
    """The same, as a user types it; with pipefail the pipeline's status is voigpt's."""
    pipeline = 'set -o pipefail; "$0" -m voigpt ask --backend fake - | head -c1 >/dev/null'
    done = subprocess.run(["bash", "-c", pipeline, PYTHON], input=b"a" * 1_000_000,
                          capture_output=True, timeout=30, env=clean_env())

    assert done.stderr == b"", f"stderr after `| head -c1`: {done.stderr[-800:]!r}"
    assert done.returncode in (0, 141), f"pipeline exit {done.returncode}"


def test_stdout_closed_is_not_a_traceback() -> None:
    done = subprocess.run(["sh", "-c", 'exec "$0" -m voigpt ask --backend fake hi >&-', PYTHON],
                          stderr=subprocess.PIPE, timeout=30, env=clean_env())

    assert TRACEBACK not in done.stderr, done.stderr[-1500:]
    assert len(error_lines(done.stderr)) <= 1, error_lines(done.stderr)
    assert done.returncode in (0, 1, 2, 141), done.returncode


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_full_disk_on_stdout_is_one_line_exit_1() -> None:
    with open("/dev/full", "wb") as full:
        done = voigpt("ask", "--backend", "fake", "hi", stdout=full)

    assert_one_line(done, (1,), "stdout on /dev/full")
