"""Class 3: secrets never escape. A token the server reflects (into an error body, a status
line, a redirect ``Location``, broken framing) must not show in ``str``/``repr`` of the
error, its excerpt, its formatted traceback (chained causes included) or the DEBUG log,
for an explicit token and for a fetched one alike. A proxy password, whatever characters it
holds, never shows in ``InvalidProxy`` nor in the command line's output. The g4f class cache
``VoiGpt._access_token`` is checked before anything is sent."""

from __future__ import annotations

import base64
import logging
import re
import subprocess
from collections.abc import Callable
from urllib.parse import quote, unquote

import pytest

import voigpt
from tests.hostile.checks import (
    PYTHON,
    assert_no_leak,
    clean_env,
    expect_error,
    leaks,
    renderings,
    run,
)
from tests.hostile.conftest import MakeClient
from tests.hostile.servers import (
    Conn,
    HostileServer,
    Request,
    TrickleSocks5,
    new_token,
    normal_except,
    response,
)

Serve = Callable[..., HostileServer]
TRACEBACK = "Traceback (most recent call last)"
Script = Callable[[Conn, Request], None]


def reflect(status: int, template: str, *, content_type: str = "text/html",
            headers: tuple[tuple[str, str], ...] = ()) -> Script:
    """Answer ``status`` with ``template`` (``{t}`` = the token the request carried)."""
    def answer(conn: Conn, request: Request) -> None:
        body = template.replace("{t}", request.token)
        extra = [(k, v.replace("{t}", request.token)) for k, v in headers]
        conn.send(response(status, body, content_type=content_type, headers=extra))

    return answer


def raw_reflect(template: bytes) -> Script:
    def answer(conn: Conn, request: Request) -> None:
        conn.send(template.replace(b"{t}", request.token.encode()))
        conn.close()

    return answer


def location(template: str, status: int = 302) -> Script:
    return reflect(status, "", headers=(("Location", template),))


POST_REFLECTIONS: dict[str, Script] = {
    "403-html": reflect(403, "<h1>CSRF verification failed</h1><p>token {t} is stale</p>"),
    "403-json": reflect(403, '{"detail": "CSRF token {t} rejected"}',
                        content_type="application/json"),
    "403-anti-bot": reflect(403, "<title>Just a moment...</title> cf-challenge {t}",
                            headers=(("cf-mitigated", "challenge"),)),
    "500": reflect(500, "Internal error: KeyError('csrftoken={t}')"),
    "502": reflect(502, "upstream said X-CSRFToken: {t}"),
    "400": reflect(400, "bad request with Cookie: csrftoken={t}"),
    "404": reflect(404, "no page for {t}"),
    "429": reflect(429, "too many requests from {t}", headers=(("Retry-After", "1"),)),
    "418-long-body-token-at-end": reflect(418, "x" * 450 + " {t}"),
    "200-not-json": reflect(200, "<html>token={t}</html>"),
    "200-json-without-response": reflect(200, '{"error": "{t}"}',
                                         content_type="application/json"),
    "200-response-not-a-string": reflect(200, '{"response": 1, "echo": "{t}"}',
                                         content_type="application/json"),
    "200-json-escaped": reflect(200, '{"error": "\\u0054oken {t}"'),
    "302-location-query": location("/login/?csrf={t}&next=/"),
    "302-location-path": location("/{t}/login/"),
    "302-location-other-host": location("http://{t}.evil.invalid/"),
    "302-location-userinfo": location("http://user:{t}@127.0.0.1:1/"),
    "302-location-unusable": location("ftp://evil.invalid/{t}"),
    "307-location-same-site": location("/x?t={t}", 307),
    "status-line-reason": raw_reflect(b"HTTP/1.1 403 Token {t} refused\r\nContent-Length: 0"
                                      b"\r\n\r\n"),
    "garbage-status-line": raw_reflect(b"HTTP/1.1 {t}\r\n\r\n"),
    "not-http-at-all": raw_reflect(b"{t} says hello\r\n\r\n"),
    "chunk-size-line": raw_reflect(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                   b"Transfer-Encoding: chunked\r\n\r\n{t}\r\n"),
    "malformed-header-line": raw_reflect(b"HTTP/1.1 500 Oops\r\nX{t}\r\nContent-Length: 2"
                                         b"\r\n\r\nno"),
    "content-length-garbage": raw_reflect(b"HTTP/1.1 200 OK\r\nContent-Length: {t}\r\n\r\n{}"),
}


def _capture(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("voigpt", "urllib3", "requests"):
        caplog.set_level(logging.DEBUG, logger=name)


@pytest.mark.parametrize("case", list(POST_REFLECTIONS))
@pytest.mark.parametrize("token_kind", ["explicit", "fetched"])
def test_reflected_token_never_shows(
    make_client: MakeClient, serve: Serve, caplog: pytest.LogCaptureFixture, case: str,
    token_kind: str,
) -> None:
    _capture(caplog)
    server = serve(normal_except(post=POST_REFLECTIONS[case]))
    explicit = new_token() if token_kind == "explicit" else None
    settings = {"access_token": explicit} if explicit else {}
    client = make_client(base_url=server.url, timeout=2, **settings)

    outcome = run(lambda: client.ask("hi"))

    error = expect_error(outcome, what=f"{case} ({token_kind} token)")
    secrets = [explicit] if explicit else server.issued
    sent = {request.token for request in server.seen("POST")}
    assert sent and sent <= set(secrets), (sent, secrets)  # the reflected ones are secrets
    assert_no_leak(error, secrets, records=caplog.records, log_text=caplog.text,
                   what=f"{case} ({token_kind} token)")


# -- secrets echoed percent-encoded ----------------------------------------------------------

# A token as voigpt.com could hand it out (a cookie value may hold any of these), with every
# character of /?#@% that a cookie value may hold, and others that percent-encoders disagree on.
SPECIAL_TOKEN = "Tk7#Qz9%Wm4&Lp2!Rb8'Yc3*Vn6+Hd1$Gf5^Js0`Ek7|Xa2~Zr4"
# How a page or a proxy may percent-encode what it echoes: Python's quote (and Django's
# urlencode filter, which keeps "/"), JavaScript's encodeURIComponent, lower-case hex, and
# every byte escaped.
ENCODINGS: dict[str, Callable[[str], str]] = {
    "quote": lambda s: quote(s, safe=""),
    "quote-keeping-slash": quote,
    "encodeURIComponent": lambda s: quote(s, safe="!'()*"),
    "lower-case-hex": lambda s: re.sub(r"%[0-9A-F]{2}", lambda m: m[0].lower(),
                                       quote(s, safe="")),
    "every-byte": lambda s: "".join(f"%{byte:02X}" for byte in s.encode("utf-8")),
}
ENCODED_ECHOES: dict[str, str] = {  # {e}: the secret, percent-encoded
    "403-html": "<p>CSRF cookie {e} rejected</p>",
    "500-text": "Internal error at /generate_response/?csrftoken={e}",
    "302-location": "",  # the Location header holds it
}


def _echo_encoded(kind: str, encode: Callable[[str], str]) -> Script:
    def answer(conn: Conn, request: Request) -> None:
        encoded = encode(request.token)
        if kind == "302-location":
            conn.send(response(302, "", headers=[("Location", f"/login/?csrf={encoded}")]))
        else:
            status = int(kind[:3])
            conn.send(response(status, ENCODED_ECHOES[kind].replace("{e}", encoded),
                               content_type="text/html"))

    return answer


def _special_get(conn: Conn, request: Request) -> None:
    """``GET /`` handing out ``SPECIAL_TOKEN`` as the csrftoken cookie."""
    conn.server.issued.append(SPECIAL_TOKEN)
    conn.send(response(200, "<html>voigpt</html>", content_type="text/html",
                       headers=[("Set-Cookie", f"csrftoken={SPECIAL_TOKEN}; Path=/")]))


def assert_no_encoded_leak(
    error: BaseException, secret: str, caplog: pytest.LogCaptureFixture, *, what: str
) -> None:
    """No form of ``secret`` anywhere: as sent, in every encoding above, and in whatever
    percent-decodes to it (any other encoding of it)."""
    forms = [secret, *(encode(secret) for encode in ENCODINGS.values())]
    assert_no_leak(error, forms, records=caplog.records, log_text=caplog.text, what=what)
    texts = {**renderings(error), "caplog.text": caplog.text}
    texts.update({f"log record {i}": r.getMessage() for i, r in enumerate(caplog.records)})
    decoded = {where: unquote(text) for where, text in texts.items()}
    found = leaks(decoded, [secret])
    assert not found, f"{what}: a secret leaked percent-encoded: {found}; the error: {error}"


@pytest.mark.parametrize("encoding", list(ENCODINGS))
@pytest.mark.parametrize("kind", list(ENCODED_ECHOES))
@pytest.mark.parametrize("token_kind", ["explicit", "fetched"])
def test_a_token_echoed_percent_encoded_never_shows(
    make_client: MakeClient, serve: Serve, caplog: pytest.LogCaptureFixture, kind: str,
    encoding: str, token_kind: str,
) -> None:
    _capture(caplog)
    post = _echo_encoded(kind, ENCODINGS[encoding])
    get = _special_get if token_kind == "fetched" else None
    server = serve(normal_except(get=get, post=post))
    settings = {"access_token": SPECIAL_TOKEN} if token_kind == "explicit" else {}
    client = make_client(base_url=server.url, timeout=2, **settings)

    outcome = run(lambda: client.ask("hi"))

    what = f"{kind}, {encoding} ({token_kind} token)"
    error = expect_error(outcome, what=what)
    assert {r.token for r in server.seen("POST")} == {SPECIAL_TOKEN}, what  # it was echoed
    assert ENCODINGS[encoding](SPECIAL_TOKEN) != SPECIAL_TOKEN
    assert_no_encoded_leak(error, SPECIAL_TOKEN, caplog, what=what)


GET_REFLECTIONS: dict[str, Script] = {
    "500-sets-cookie-and-echoes-it": lambda conn, request: _issue_and(
        conn, 500, "your new token: {t}"),
    "403-sets-cookie-and-echoes-it": lambda conn, request: _issue_and(
        conn, 403, "csrftoken={t} not accepted"),
    "302-elsewhere-with-the-new-cookie": lambda conn, request: _issue_and(
        conn, 302, "", location="http://evil.invalid/?t={t}"),
    "302-unusable-with-the-new-cookie": lambda conn, request: _issue_and(
        conn, 302, "", location="ftp://{t}/"),
}


def _issue_and(conn: Conn, status: int, body: str, location: str | None = None) -> None:
    token = conn.server.issue()
    headers = [("Set-Cookie", f"csrftoken={token}; Path=/")]
    if location is not None:
        headers.append(("Location", location.replace("{t}", token)))
    conn.send(response(status, body.replace("{t}", token), content_type="text/html",
                       headers=headers))


@pytest.mark.parametrize("case", list(GET_REFLECTIONS))
def test_token_handed_out_by_a_failing_answer_never_shows(
    make_client: MakeClient, serve: Serve, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    _capture(caplog)
    server = serve(normal_except(get=GET_REFLECTIONS[case]))
    client = make_client(base_url=server.url, timeout=2)

    outcome = run(lambda: client.ask("hi"))

    error = expect_error(outcome, what=case)
    assert_no_leak(error, server.issued, records=caplog.records, log_text=caplog.text,
                   what=f"GET / {case}")


# -- proxy passwords ---------------------------------------------------------------------------

PIECES = ("Hx7q", "Kp2w", "Zr9t", "Lm4v", "Nb8c")
PASSWORDS = {
    "slash": "Hx7q/Kp2w",
    "question-mark": "Hx7q?Kp2w",
    "hash": "Hx7q#Kp2w",
    "at-sign": "Hx7q@Kp2w",
    "colon": "Hx7q:Kp2w",
    "escaped-slash": "Hx7q%2FKp2w",
    "everything": "Hx7q/Kp2w?Zr9t#Lm4v@Nb8c",
    "escaped-everything": "Hx7q%2FKp2w%3FZr9t%23Lm4v%40Nb8c",
}
BAD_SHAPES = {
    "bad-scheme": "ftp://user:{p}@127.0.0.1:1080",
    "socks4": "socks4://user:{p}@127.0.0.1:1080",
    "port-99999": "http://user:{p}@127.0.0.1:99999",
    "port-not-a-number": "socks5://user:{p}@127.0.0.1:socks",
    "no-host": "http://user:{p}@:8080",
    "with-path": "http://user:{p}@127.0.0.1:8080/path",
}


def _pieces_in(text: str) -> list[str]:
    return [piece for piece in PIECES if piece in text]


@pytest.mark.parametrize("shape", list(BAD_SHAPES))
@pytest.mark.parametrize("password", list(PASSWORDS))
def test_invalid_proxy_never_shows_the_password(
    make_client: MakeClient, shape: str, password: str
) -> None:
    url = BAD_SHAPES[shape].replace("{p}", PASSWORDS[password])

    outcome = run(lambda: make_client(proxy=url, base_url="http://127.0.0.1:1").ask("hi"))

    error = expect_error(outcome, voigpt.InvalidInput, what=f"proxy {shape} / {password}")
    shown = {where: text for where, text in renderings(error).items()
             if _pieces_in(text)}
    assert not shown, (
        f"proxy {shape} with a password with {password}: pieces of the password "
        f"{sorted({p for t in shown.values() for p in _pieces_in(t)})} show in "
        f"{sorted(shown)}: {error}"
    )


def proxy_answers(status: int, template: str) -> Script:
    """An HTTP proxy that answers every request with ``status``, reflecting the
    ``Proxy-Authorization`` it got, raw and decoded."""
    def answer(conn: Conn, request: Request) -> None:
        auth = request.header("Proxy-Authorization") or ""
        decoded = ""
        if auth.startswith("Basic "):
            decoded = base64.b64decode(auth[6:]).decode("latin-1", errors="replace")
        body = template.replace("{auth}", auth).replace("{decoded}", decoded)
        conn.send(response(status, body, content_type="text/plain"))

    return answer


@pytest.mark.parametrize(
    ("status", "template"),
    [
        pytest.param(407, "auth {auth} ({decoded}) refused", id="407-both"),
        pytest.param(502, "cannot reach upstream as {decoded}", id="502-decoded"),
        pytest.param(500, "Proxy-Authorization: {auth}", id="500-base64"),
        pytest.param(403, "{decoded} is not allowed", id="403-decoded"),
    ],
)
def test_proxy_reflecting_its_credentials_never_shows_the_password(
    make_client: MakeClient, serve: Serve, caplog: pytest.LogCaptureFixture, status: int,
    template: str,
) -> None:
    _capture(caplog)
    proxy = serve(proxy_answers(status, template))
    password = PASSWORDS["everything"]
    credentials = base64.b64encode(f"user:{password}".encode()).decode()
    encoded = "Hx7q%2FKp2w%3FZr9t%23Lm4v%40Nb8c"
    client = make_client(base_url="http://voigpt.test", timeout=2,
                         proxy=f"http://user:{encoded}@127.0.0.1:{proxy.port}")

    outcome = run(lambda: client.ask("hi"))

    error = expect_error(outcome, what=f"proxy answering {status}")
    assert proxy.requests, "the proxy was never asked (the test is wrong)"
    assert_no_leak(error, [password, credentials], records=caplog.records,
                   log_text=caplog.text, what=f"proxy answering {status}")


PERCENT_PASSWORD = "Hx7q/Kp2w?Zr9t#Lm4v@Nb8c%Qd5s"  # all of /?#@%


@pytest.mark.parametrize("encoding", list(ENCODINGS))
@pytest.mark.parametrize("status", [403, 502])
def test_a_proxy_echoing_the_password_percent_encoded_never_shows_it(
    make_client: MakeClient, serve: Serve, caplog: pytest.LogCaptureFixture, status: int,
    encoding: str,
) -> None:
    _capture(caplog)
    received: list[str] = []

    def answer(conn: Conn, request: Request) -> None:
        auth = (request.header("Proxy-Authorization") or "").removeprefix("Basic ")
        received.append(base64.b64decode(auth).decode("latin-1").partition(":")[2])
        body = f"proxy user user:{ENCODINGS[encoding](received[-1])} may not pass"
        conn.send(response(status, body, content_type="text/plain"))

    proxy = serve(answer)
    encoded = quote(PERCENT_PASSWORD, safe="")
    client = make_client(base_url="http://voigpt.test", timeout=2,
                         proxy=f"http://user:{encoded}@127.0.0.1:{proxy.port}")

    outcome = run(lambda: client.ask("hi"))

    what = f"proxy answering {status}, password {encoding}"
    error = expect_error(outcome, what=what)
    assert received and set(received) == {PERCENT_PASSWORD}, received  # it was echoed
    assert_no_encoded_leak(error, PERCENT_PASSWORD, caplog, what=what)


def test_socks_proxy_refusing_credentials_never_shows_the_password(
    make_client: MakeClient, socks: Callable[..., TrickleSocks5], serve: Serve,
) -> None:
    proxy = socks(delay=0.0, username="user", password="other", accept=False)
    encoded = "Hx7q%2FKp2w%3FZr9t%23Lm4v%40Nb8c"
    client = make_client(base_url=serve().url, timeout=2,
                         proxy=f"socks5://user:{encoded}@127.0.0.1:{proxy.port}")

    outcome = run(lambda: client.ask("hi"))

    error = expect_error(outcome, voigpt.ConnectionFailed, what="SOCKS auth refused")
    assert proxy.record.credentials == [("user", PASSWORDS["everything"])], (
        f"the SOCKS proxy got {proxy.record.credentials}"
    )
    assert_no_leak(error, [PASSWORDS["everything"]], what="SOCKS auth refused")


# -- the command line ------------------------------------------------------------------------

def _voigpt(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "voigpt", *args], capture_output=True, text=True, timeout=30,
        env=env or clean_env(), stdin=subprocess.DEVNULL,
    )


CLI_PROXIES = {
    "bad-scheme-hash": "ftp://user:Hx7q#Kp2w@127.0.0.1:1080",
    "slash-unescaped": "http://user:Hx7q/Kp2w@127.0.0.1:1",
    "question-unescaped-bad-port": "socks5://user:Hx7q?Kp2w@127.0.0.1:99999",
    "everything-unescaped": "http://user:Hx7q/Kp2w?Zr9t#Lm4v@Nb8c@127.0.0.1:1",
    "valid-escaped-nothing-listens": "http://user:Hx7q%2FKp2w%3FZr9t%23Lm4v%40Nb8c@127.0.0.1:1",
    "valid-socks-nothing-listens": "socks5h://user:Hx7q%2FKp2w%23Zr9t@127.0.0.1:1",
}


@pytest.mark.parametrize(
    ("case", "via"),
    [(case, "flag") for case in CLI_PROXIES]
    + [(case, via) for case in ("everything-unescaped", "valid-escaped-nothing-listens")
       for via in ("flag-verbose", "env")],
)
def test_cli_never_prints_the_proxy_password(case: str, via: str) -> None:
    url = CLI_PROXIES[case]
    args = ["ask", "--timeout", "2", "--retries", "0", "--base-url", "http://127.0.0.1:1"]
    env = None
    if via == "env":
        env = clean_env(VOIGPT_PROXY=url)
    else:
        args += ["--proxy", url] + (["-v"] if via == "flag-verbose" else [])

    done = _voigpt(*args, "hi", env=env)

    output = done.stdout + done.stderr
    assert not _pieces_in(output), (
        f"voigpt ask with proxy {case} ({via}) printed the password "
        f"{_pieces_in(output)}: {output[-600:]!r}"
    )
    assert done.returncode in (1, 2), (done.returncode, done.stderr[-600:])
    if via != "flag-verbose":
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and TRACEBACK not in done.stderr, done.stderr[-800:]


@pytest.mark.parametrize(
    ("case", "verbose"),
    [("403-html", False), ("500", False), ("302-location-query", False),
     ("garbage-status-line", True), ("chunk-size-line", True), ("malformed-header-line", True)],
)
def test_cli_never_prints_a_reflected_token(serve: Serve, case: str, verbose: bool) -> None:
    server = serve(normal_except(post=POST_REFLECTIONS[case]))
    token = new_token()

    done = _voigpt("ask", "--base-url", server.url, "--access-token", token, "--timeout", "2",
                   "--retries", "0", *(["-v"] if verbose else []), "hi")

    output = done.stdout + done.stderr
    found = leaks({"stdout": done.stdout, "stderr": done.stderr}, [token])
    assert not found, f"{case}: the CLI printed the token: {found}: {output[-800:]!r}"
    assert done.returncode == 1, (done.returncode, done.stderr[-600:])
    if not verbose:
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and TRACEBACK not in done.stderr, done.stderr[-800:]


# -- the g4f class cache ---------------------------------------------------------------------

CACHED = {
    "semicolon-extra-cookie": "Abcdefgh12;sessionid=evil",
    "crlf-header-injection": "Abcdefgh12\r\nX-Injected: yes",
    "lf-only": "Abcdefgh12\nX-Injected: yes",
    "nul": "Abcdefgh12\x00",
    "non-ascii": "ąbcdefgh12",
    "non-latin1": "Abcdefgh12\u2028",
    "space": "Abcdefgh 12",
    "quote": 'Abcdefgh"12',
    "comma": "Abcdefgh12,x",
    "too-long": "A" * 5000,
    "bytes": b"Abcdefgh12",
    "int": 12345678,
}


@pytest.mark.parametrize("case", list(CACHED))
def test_g4f_class_cache_is_checked_before_anything_is_sent(
    g4f_provider: type[voigpt.VoiGpt], serve: Serve, case: str
) -> None:
    g4f = g4f_provider
    server = serve()
    g4f.url = server.url
    g4f._access_token = CACHED[case]  # type: ignore[assignment]

    outcome = run(lambda: next(g4f.create_completion(
        model="", messages=[{"role": "user", "content": "hi"}], stream=False, timeout=2,
    )))

    error = expect_error(outcome, what=f"VoiGpt._access_token = {case}")
    assert server.connections == 0, (
        f"{case}: {server.connections} connection(s) made, "
        f"sent: {[r.wire()[:200] for r in server.requests]!r}"
    )
    assert isinstance(error, voigpt.InvalidInput), f"prefer InvalidInput; got {error!r}"
    value = CACHED[case]
    if isinstance(value, str):
        shown = [where for where, text in renderings(error).items() if value in text]
        assert not shown, f"{case}: the cached token shows in {shown}"
