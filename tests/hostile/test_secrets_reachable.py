"""Nothing reachable from a voigpt error holds a secret: not its cause, not its context, not
their attributes, however deep. An error reporter that walks ``__cause__`` and
``__context__`` and the objects they carry (Sentry does) would ship whatever is there:
aiohttp's ``request_info.headers`` and requests' ``.request.headers`` hold the cookie and
the ``X-CSRFToken``. Both transports, every kind of failure the suite drives."""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable, Iterator

import pytest

import voigpt
from tests.hostile.checks import expect_error, run, secret_forms
from tests.hostile.conftest import MakeClient
from tests.hostile.servers import (
    Conn,
    HostileServer,
    Request,
    head,
    normal_except,
    response,
    stall,
)

Serve = Callable[..., HostileServer]
Script = Callable[[Conn, Request], None]
EXPLICIT = "Xq7Lm2Pz9Rt4Vb8Nc1Kd6Hs3Jf5Gw0Ya"
_ATOMS = (str, bytes, bytearray, int, float, bool, type(None))


def reachable(root: object, *, limit: int = 20_000) -> Iterator[tuple[str, object]]:
    """Every object reachable from ``root`` (breadth first), with the path that reaches
    it: exception causes, contexts, ``args`` and attributes; the attributes of any object;
    the items of mappings and sequences."""
    seen: set[int] = set()
    queue: list[tuple[str, object]] = [("error", root)]
    while queue and len(seen) < limit:
        path, item = queue.pop(0)
        skipped = isinstance(item, type) or (
            callable(item) and not isinstance(item, BaseException)
        )
        if id(item) in seen or skipped:
            continue
        seen.add(id(item))
        yield path, item
        if isinstance(item, _ATOMS):
            continue
        children: list[tuple[str, object]] = []
        if isinstance(item, BaseException):
            children += [(".__cause__", item.__cause__), (".__context__", item.__context__)]
            children += [(f".args[{i}]", arg) for i, arg in enumerate(item.args)]
        if isinstance(item, dict) or (hasattr(item, "items") and hasattr(item, "keys")):
            try:
                children += [(f"[{k!r}]", v) for k, v in list(item.items())]  # type: ignore[union-attr]
                children += [(".key", k) for k in list(item.keys())]  # type: ignore[union-attr]
            except Exception:
                pass
        elif isinstance(item, (list, tuple, set, frozenset)):
            children += [(f"[{i}]", v) for i, v in enumerate(item)]
        for name in _attributes(item):
            try:
                children.append((f".{name}", getattr(item, name)))
            except Exception:
                continue
        queue += [(path + step, child) for step, child in children if child is not None]


def _attributes(item: object) -> list[str]:
    names = list(getattr(item, "__dict__", {}))
    for kind in type(item).__mro__:
        slots = kind.__dict__.get("__slots__", ())
        names += [slots] if isinstance(slots, str) else list(slots)
    return [name for name in names if name not in ("__weakref__", "__dict__")]


def leaks(error: BaseException, secrets: list[str]) -> list[str]:
    found = []
    forms = {form for secret in secrets for form in secret_forms(secret)}
    for path, item in reachable(error):
        if isinstance(item, (bytes, bytearray)):
            text = bytes(item).decode("latin-1")
        elif isinstance(item, str):
            text = item
        else:
            continue
        if any(form in text for form in forms):
            found.append(path)
    return found


def reset(conn: Conn) -> None:
    conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def then(data: bytes, end: Callable[[Conn], None]) -> Script:
    def answer(conn: Conn, request: Request) -> None:
        if data:
            conn.send(data)
        end(conn)

    return answer


def echoing(status: int) -> Script:
    """An answer that quotes the request's own headers back (the token among them)."""

    def answer(conn: Conn, request: Request) -> None:
        conn.send(response(status, request.wire(), content_type="text/plain"))

    return answer


HEAD = head(200, [("Content-Type", "application/json"), ("Content-Length", "100")])
FAILURES: dict[str, Script] = {
    "dropped-before-the-reply": then(b"", Conn.close),
    "reset-before-the-reply": then(b"", reset),
    "reset-mid-body": then(HEAD + b'{"respo', reset),
    "closed-mid-body": then(HEAD + b'{"respo', Conn.close),
    "garbage-status-line": then(b"HTTP/1.1 abc OK\r\n\r\n", Conn.close),
    "timeout": stall,
    "http-500-echoing": echoing(500),
    "http-400-echoing": echoing(400),
    "malformed-200-echoing": echoing(200),
}


@pytest.mark.parametrize("token_kind", ["fetched", "explicit"])
@pytest.mark.parametrize("case", list(FAILURES))
def test_nothing_reachable_from_the_error_holds_the_token(
    make_client: MakeClient, serve: Serve, case: str, token_kind: str
) -> None:
    server = serve(normal_except(post=FAILURES[case]))
    settings = {"access_token": EXPLICIT} if token_kind == "explicit" else {}
    client = make_client(base_url=server.url, timeout=1, **settings)
    outcome = run(lambda: client.ask("hi"))
    error = expect_error(outcome, what=case)
    secrets = [*server.issued, EXPLICIT]
    assert server.seen("POST"), f"{case}: nothing was sent ({outcome.describe()})"
    assert server.seen("POST")[0].token in secrets  # the secret was sent
    found = leaks(error, secrets)
    assert not found, f"{case}: the token is reachable from the error at {found[:5]}"


def test_the_walk_finds_a_token_held_in_a_library_exceptions_request() -> None:
    import requests

    prepared = requests.Request(
        "POST", "http://example.invalid/", headers={"X-CSRFToken": EXPLICIT}
    ).prepare()
    inner = requests.ConnectionError("dropped", request=prepared)
    try:
        try:
            raise inner
        except requests.ConnectionError:
            raise voigpt.ConnectionFailed("dropped") from None
    except voigpt.ConnectionFailed as error:
        assert leaks(error, [EXPLICIT]) == ["error.__context__.request.headers['X-CSRFToken']"]
