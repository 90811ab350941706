"""Class 6 (redirects): ``GET /`` follows redirects only within the same site (or not at
all) and never takes a cookie from another origin; a redirect to an unusable URL is the
server's fault (a ``VoiGptError`` that is not ``InvalidInput``), within the deadline; a
POST redirect is never followed; a redirect chain or loop ends with an error."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.hostile.checks import (
    Outcome,
    bound,
    expect_error,
    expect_within,
    run,
    server_fault,
)
from tests.hostile.conftest import MakeClient
from tests.hostile.servers import (
    Conn,
    HostileServer,
    Request,
    normal_except,
    normal_get,
    response,
)

Serve = Callable[..., HostileServer]
EVIL = "EVIL" + "e" * 28
GOOD = "GOOD" + "g" * 28


def redirect_to(location: str | bytes, status: int = 302) -> Callable[[Conn, Request], None]:
    def answer(conn: Conn, request: Request) -> None:
        target = location.encode("latin-1") if isinstance(location, str) else location
        conn.send(
            f"HTTP/1.1 {status} Redirect\r\nContent-Length: 0\r\n".encode() + b"Location: "
            + target + b"\r\n\r\n"
        )

    return answer


def plants(cookie: str, *, then: str | None = None) -> Callable[[Conn, Request], None]:
    """The other origin: sets ``csrftoken=cookie`` (on a 200, or on a redirect to ``then``)."""
    def answer(conn: Conn, request: Request) -> None:
        headers = [("Set-Cookie", f"csrftoken={cookie}; Path=/")]
        if then is None:
            conn.send(response(200, "<html>other</html>", content_type="text/html",
                               headers=headers))
        else:
            conn.send(response(302, "", headers=[*headers, ("Location", then)]))

    return answer


def carried(servers: list[HostileServer], token: str) -> list[str]:
    return [
        f"{request.method} {request.target} on :{server.port}"
        for server in servers for request in server.requests if token in request.wire()
    ]


# -- cross-origin --------------------------------------------------------------------------

@pytest.mark.parametrize(
    "case",
    [
        "to-other-port-which-sets-the-cookie",
        "to-other-port-which-sets-the-cookie-and-redirects-back",
        "to-other-port-and-back-to-a-site-that-sets-its-own",
        "to-localhost-name-which-sets-the-cookie",
        "protocol-relative-to-other-port",
        "with-userinfo-to-other-port",
        "307-to-other-port",
    ],
)
def test_cross_origin_redirect_never_plants_the_token(
    make_client: MakeClient, serve: Serve, case: str
) -> None:
    other = serve()
    site = serve()
    back = f"{site.url}/back"
    other_url = other.url
    if case == "to-localhost-name-which-sets-the-cookie":
        other_url = f"http://localhost:{other.port}"
    elif case == "protocol-relative-to-other-port":
        other_url = f"//127.0.0.1:{other.port}"
    elif case == "with-userinfo-to-other-port":
        other_url = f"http://user:pw@127.0.0.1:{other.port}"

    def site_get(conn: Conn, request: Request) -> None:
        if request.path == "/back":
            if case.endswith("sets-its-own"):
                conn.send(response(200, "<html/>", content_type="text/html",
                                   headers=[("Set-Cookie", f"csrftoken={GOOD}; Path=/")]))
            else:
                conn.send(response(200, "<html/>", content_type="text/html"))
        else:
            redirect_to(f"{other_url}/", 307 if case.startswith("307") else 302)(conn, request)

    site.handler = normal_except(get=site_get)
    other.handler = normal_except(
        get=plants(EVIL, then=back if "back" in case else None)
    )
    client = make_client(base_url=site.url, timeout=2)

    outcome = run(lambda: client.ask("hi"))

    leaked = carried([site, other], EVIL)
    assert not leaked, f"{case}: the cookie set by another origin was sent: {leaked}"
    assert not other.seen("POST"), f"{case}: the completion went to another origin"
    if outcome.error is None:
        assert site.seen("POST") and site.seen("POST")[-1].token == GOOD, (
            f"{case}: succeeded, but not with the site's own token: {outcome.describe()}"
        )
    else:
        server_fault(outcome, what=case)
    assert not other.requests, (
        f"{case}: a redirect on GET / was followed to another origin "
        f"({[r.method + ' ' + r.target for r in other.requests]}); follow only the same site"
    )


# -- unusable targets -------------------------------------------------------------------------

UNUSABLE: dict[str, str | bytes] = {
    "file-etc-passwd": "file:///etc/passwd",
    "ftp": "ftp://127.0.0.1/pub/x",
    "gopher": "gopher://127.0.0.1:70/",
    "javascript": "javascript:alert(1)",
    "data": "data:text/html,<b>hi</b>",
    "malformed-ipv6": "http://[::1",
    "port-99999": "http://a:99999/",
    "port-not-a-number": "http://127.0.0.1:http/",
    "port-zero": "http://127.0.0.1:0/",
    "empty": "",
    "scheme-only": "http://",
    "no-host-with-port": "http://:80/",
    "bad-percent-host": "http://%zz/",
    "space-in-host": "http://ex ample.com/",
    "overlong-label": "http://" + "a" * 64 + ".com/",
    "non-ascii-host-utf8-bytes": "http://bü.invalid/".encode(),
    "null-byte-host": b"http://a\x00b.invalid/",
}


@pytest.mark.parametrize("location", list(UNUSABLE))
def test_redirect_on_get_to_an_unusable_url_is_the_servers_fault(
    make_client: MakeClient, serve: Serve, location: str
) -> None:
    server = serve(normal_except(get=redirect_to(UNUSABLE[location])))
    client = make_client(base_url=server.url, timeout=2)

    outcome = run(lambda: client.ask("hi"))

    expect_within(outcome, 2, what=f"redirect to {location}")
    server_fault(outcome, what=f"GET / redirected to {UNUSABLE[location]!r}")
    assert not server.seen("POST"), f"{location}: a POST was sent after an unusable redirect"


@pytest.mark.parametrize("location", ["file-etc-passwd", "malformed-ipv6", "port-99999", "empty",
                                      "non-ascii-host-utf8-bytes", "overlong-label"])
def test_redirect_on_post_to_an_unusable_url_is_the_servers_fault(
    make_client: MakeClient, serve: Serve, location: str
) -> None:
    server = serve(normal_except(post=redirect_to(UNUSABLE[location])))
    client = make_client(base_url=server.url, timeout=2)

    outcome = run(lambda: client.ask("hi"))

    expect_within(outcome, 2, what=f"POST redirected to {location}")
    server_fault(outcome, what=f"POST redirected to {UNUSABLE[location]!r}")


ODD_SAME_SITE: dict[str, str | bytes] = {
    "control-char-in-path": "/a\x01b",
    "del-in-path": "/a\x7fb",
    "non-ascii-path-utf8-bytes": "/pâge".encode(),
    "non-ascii-path-latin1-bytes": "/pâge".encode("latin-1"),
    "spaces-in-path": "/a b",
    "backslashes": "\\\\evil.invalid\\x",
}


@pytest.mark.parametrize("location", list(ODD_SAME_SITE))
def test_odd_same_site_location_is_followed_safely_or_refused(
    make_client: MakeClient, serve: Serve, location: str
) -> None:
    """Either followed (percent-encoded: no raw control or non-ASCII byte on the wire) and
    the call succeeds, or refused as the server's fault. Never another exception."""
    def get(conn: Conn, request: Request) -> None:
        if request.path == "/":
            redirect_to(ODD_SAME_SITE[location])(conn, request)
        else:
            normal_get(conn, request)

    server = serve(normal_except(get=get))
    client = make_client(base_url=server.url, timeout=2)

    outcome = run(lambda: client.ask("hi"))

    if outcome.error is not None:
        server_fault(outcome, what=f"GET / redirected to {ODD_SAME_SITE[location]!r}")
    else:
        assert outcome.value == "reply to: hi", outcome.describe()
    heads = "".join(request.wire() for request in server.requests)
    bad = sorted({repr(ch) for ch in heads if (ord(ch) < 0x20 and ch not in "\r\n")
                  or ord(ch) >= 0x7F})
    assert not bad, f"{location}: raw bytes {bad} reached the wire in a request head"
    lines = [f"{r.method} {r.target} {r.version}" for r in server.requests]
    assert all(r.version == "HTTP/1.1" for r in server.requests), (
        f"{location}: a malformed request line reached the wire: {lines}"
    )


# -- POST redirects, chains, loops -------------------------------------------------------------

@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_post_redirect_is_never_followed(
    make_client: MakeClient, serve: Serve, status: int
) -> None:
    server = serve(normal_except(post=redirect_to("/elsewhere/", status)))
    client = make_client(base_url=server.url, timeout=2)

    outcome = run(lambda: client.ask("hi"))

    server_fault(outcome, what=f"POST answered {status}")
    followed = [r.method + " " + r.target for r in server.requests if r.path == "/elsewhere/"]
    assert not followed, f"a {status} on the POST was followed: {followed}"


def hops(limit: int) -> Callable[[Conn, Request], None]:
    def get(conn: Conn, request: Request) -> None:
        hop = conn.server.count("hops")
        if hop >= limit:
            normal_get(conn, request)
        else:
            redirect_to(f"/hop{hop + 1}")(conn, request)

    return get


LOOPS: dict[str, Callable[[Conn, Request], None]] = {
    "self-loop": redirect_to("/"),
    "self-loop-absolute-307": redirect_to("__SITE__/", 307),
    "two-node-loop": lambda conn, req: redirect_to("/a" if req.path == "/" else "/")(conn, req),
    "chain-of-25": hops(25),
    "chain-of-40": hops(40),
}


@pytest.mark.parametrize("case", list(LOOPS))
def test_redirect_loops_and_long_chains_end_with_an_error(
    make_client: MakeClient, serve: Serve, case: str
) -> None:
    server = serve()
    script = LOOPS[case]

    def get(conn: Conn, request: Request) -> None:
        if case == "self-loop-absolute-307":
            redirect_to(f"{server.url}/", 307)(conn, request)
        else:
            script(conn, request)

    server.handler = normal_except(get=get)
    client = make_client(base_url=server.url, timeout=3)

    outcome = run(lambda: client.ask("hi"))

    expect_within(outcome, 3, what=case)
    server_fault(outcome, what=f"GET / {case}")
    gets = len(server.seen("GET"))
    assert gets <= 21, f"{case}: {gets} GETs were made; a chain should stop after ~10 hops"


def test_same_site_redirect_is_followed_or_refused_never_mixed(
    make_client: MakeClient, serve: Serve
) -> None:
    """GET / -> /login (same site) -> 200 with the token: following it is fine (the token
    is the site's); refusing it is fine too; any error blames the server."""
    def get(conn: Conn, request: Request) -> None:
        if request.path == "/":
            redirect_to("/login?next=/")(conn, request)
        else:
            normal_get(conn, request)

    server = serve(normal_except(get=get))
    client = make_client(base_url=server.url, timeout=2)

    outcome: Outcome = run(lambda: client.ask("hi"))

    if outcome.error is None:
        assert outcome.value == "reply to: hi"
        assert server.seen("POST")[-1].token == server.issued[-1]
    else:
        expect_error(outcome)
        server_fault(outcome, what="a same-site redirect on GET /")
    assert outcome.elapsed <= bound(2)
