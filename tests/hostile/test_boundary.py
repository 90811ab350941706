"""Class 4: one exception boundary. Whatever a server sends, a call returns the right
result or raises a ``VoiGptError`` (a type defined in voigpt): malformed JSON, charsets that
are not text codecs, odd Content-Lengths, garbage status lines, broken chunked framing, huge
headers, compression bombs, odd Retry-After values. Replies are JSON, so UTF-8 (a BOM
tolerated) whatever the Content-Type says. The size cap holds at the exact boundary."""

from __future__ import annotations

import functools
import gzip
import json
import zlib
from collections.abc import Callable

import pytest

import voigpt
from tests.hostile.checks import (
    bound,
    expect_error,
    expect_result_or_error,
    expect_within,
    run,
)
from tests.hostile.conftest import MakeClient
from tests.hostile.servers import (
    Conn,
    HostileServer,
    Request,
    chunked,
    head,
    normal_except,
    response,
)

Serve = Callable[..., HostileServer]
Script = Callable[[Conn, Request], None]
TEXT = "Grüße, café, 日本語, emoji 🎉"
REPLY = json.dumps({"response": TEXT}, ensure_ascii=False).encode("utf-8")
MIB = 1024 * 1024


def raw(data: bytes, *, close: bool = True) -> Script:
    def answer(conn: Conn, request: Request) -> None:
        conn.send(data)
        if close:
            conn.close()

    return answer


def typed(content_type: str, body: bytes = REPLY) -> Script:
    return raw(response(200, body, content_type=content_type), close=False)


def with_head(lines: str, body: bytes = REPLY) -> Script:
    """A 200 with exactly the header lines given (``\\r\\n``-separated), then ``body``."""
    return raw(b"HTTP/1.1 200 OK\r\n" + lines.encode("utf-8") + b"\r\n\r\n" + body)


@functools.cache
def gzip_bomb(size: int = 24 * MIB) -> bytes:
    return gzip.compress(b'{"response": "' + b"0" * size + b'"}', compresslevel=9)


@functools.cache
def deflate_bomb(size: int = 24 * MIB) -> bytes:
    return zlib.compress(b'{"response": "' + b"0" * size + b'"}', 9)


def encoded(encoding: str, body: bytes) -> Script:
    return raw(response(200, body, headers=[("Content-Encoding", encoding)]), close=False)


# Either the right reply (TEXT) or a VoiGptError; never anything else.
RESULT_OR_ERROR: dict[str, Script] = {
    # JSON
    "nested-arrays-100000": typed("application/json", b"[" * 100_000),
    "nested-objects-50000": typed("application/json", b'{"a":' * 50_000),
    "closed-nesting-100000": typed("application/json", b"[" * 100_000 + b"]" * 100_000),
    "integer-of-5000-digits": typed("application/json",
                                    REPLY[:-1] + b', "n": ' + b"9" * 5000 + b"}"),
    "lone-surrogate-escape": typed("application/json", b'{"response": "\\ud800"}'),
    "invalid-utf8": typed("application/json", b'{"response": "\xff\xfe"}'),
    "utf16-with-bom": typed("application/json",
                            json.dumps({"response": TEXT}).encode("utf-16")),
    "empty-body": typed("application/json", b""),
    # charsets that are not text codecs, or wrong
    "charset-rot13": typed("application/json; charset=rot13"),
    "charset-nonsense": typed("application/json; charset=nonsense"),
    "charset-utf-16-on-utf8": typed("application/json; charset=utf-16"),
    "charset-utf-32-on-utf8": typed("application/json; charset=utf-32"),
    "charset-base64": typed("application/json; charset=base64"),
    "charset-zlib": typed("application/json; charset=zlib"),
    "charset-undefined": typed("application/json; charset=undefined"),
    "charset-idna": typed("application/json; charset=idna"),
    "charset-empty": typed("application/json; charset="),
    "charset-quoted-garbage": typed('application/json; charset="\\"; x'),
    "content-type-non-ascii": with_head("Content-Type: application/jsön; charset=ütf-8\r\n"
                                        f"Content-Length: {len(REPLY)}"),
    # Content-Length
    "content-length-superscript-two": with_head("Content-Length: ²", b"{}"),
    "content-length-arabic-digits": with_head("Content-Length: ١٢", b"{}"),
    "content-length-fullwidth-digits": with_head("Content-Length: \uff11\uff12", b"{}"),
    "content-length-conflicting": with_head(
        f"Content-Length: {len(REPLY)}\r\nContent-Length: {len(REPLY) + 5}"),
    "content-length-list": with_head(f"Content-Length: {len(REPLY)}, {len(REPLY) + 5}"),
    "content-length-negative": with_head("Content-Length: -1"),
    "content-length-float": with_head("Content-Length: 1e3"),
    "content-length-plus": with_head(f"Content-Length: +{len(REPLY)}"),
    "content-length-huge": with_head("Content-Length: 99999999999999999999999999999"),
    "content-length-and-chunked": with_head(
        "Content-Length: 5\r\nTransfer-Encoding: chunked", chunked([REPLY])),
    "transfer-encoding-unknown": with_head("Transfer-Encoding: bogus"),
    "transfer-encoding-gzip-chunked": with_head("Transfer-Encoding: gzip, chunked",
                                                chunked([gzip.compress(REPLY)])),
    # status lines
    "status-not-a-number": raw(b"HTTP/1.1 abc OK\r\nContent-Length: 2\r\n\r\n{}"),
    "status-2000": raw(b"HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\n{}"),
    "status-negative": raw(b"HTTP/1.1 -200 OK\r\nContent-Length: 2\r\n\r\n{}"),
    "status-999": raw(b"HTTP/1.1 999 What\r\nContent-Length: 2\r\n\r\n{}"),
    "http-9.9": raw(b"HTTP/9.9 200 OK\r\nContent-Length: 2\r\n\r\n{}"),
    "icy-200": raw(b"ICY 200 OK\r\n\r\n{}"),
    "nul-bytes": raw(b"\x00\x00\x00\x00\r\n\r\n"),
    "only-a-1xx-then-close": raw(b"HTTP/1.1 103 Early Hints\r\n\r\n"),
    "closed-without-a-byte": raw(b""),
    "non-ascii-reason": raw("HTTP/1.1 200 Окей\r\nContent-Length: 2\r\n\r\n{}".encode()),
    "204-on-post": raw(b"HTTP/1.1 204 No Content\r\n\r\n", close=False),
    # chunked framing
    "chunk-size-not-hex": with_head("Transfer-Encoding: chunked", b"zz\r\nabc\r\n0\r\n\r\n"),
    "chunk-size-huge": with_head("Transfer-Encoding: chunked", b"ffffffffffffffffffff\r\nab"),
    "chunk-cut-short": with_head("Transfer-Encoding: chunked", b"100\r\n" + REPLY[:10]),
    "chunk-missing-crlf": with_head("Transfer-Encoding: chunked",
                                    b"%x\r\n%sXX0\r\n\r\n" % (len(REPLY), REPLY)),
    "chunk-no-final-chunk": with_head("Transfer-Encoding: chunked", chunked([REPLY], end=False)),
    "chunk-extension-garbage": with_head("Transfer-Encoding: chunked",
                                         b"%x;\xff\x00=\x01\r\n%s\r\n0\r\n\r\n"
                                         % (len(REPLY), REPLY)),
    # headers
    "header-line-100kB": with_head("X-Big: " + "a" * 100_000 + f"\r\nContent-Length: {len(REPLY)}"),
    "headers-500": with_head("".join(f"X-{n}: {n}\r\n" for n in range(500))
                             + f"Content-Length: {len(REPLY)}"),
    "status-line-70kB": raw(b"HTTP/1.1 200 " + b"O" * 70_000 + b"\r\n\r\n"),
    "header-without-colon": with_head(f"Content-Length: {len(REPLY)}\r\nno colon here"),
    "header-non-utf8-bytes": raw(b"HTTP/1.1 200 OK\r\nX-Bin: \xff\xfe\x00\r\nContent-Length: "
                                 + str(len(REPLY)).encode() + b"\r\n\r\n" + REPLY),
    "obsolete-line-folding": with_head(f"Content-Length: {len(REPLY)}\r\nX-Fold: a\r\n  b"),
    # content encodings
    "gzip-garbage": encoded("gzip", b"\x1f\x8b\x08\x00garbage"),
    "deflate-garbage": encoded("deflate", b"not deflate at all"),
    "gzip-truncated": encoded("gzip", gzip.compress(REPLY)[:-10]),
    "br-unasked": encoded("br", b"\x0b\x02\x80hello\x03"),
    "zstd-unasked": encoded("zstd", b"\x28\xb5\x2f\xfd garbage"),
    "unknown-encoding": encoded("x-custom", REPLY),
    "gzip-twice-declared-once": encoded("gzip", gzip.compress(gzip.compress(REPLY))),
}


EXPECTED = {"lone-surrogate-escape": "\ufffd"}  # a lone surrogate reads as U+FFFD; else TEXT


@pytest.mark.parametrize("case", list(RESULT_OR_ERROR))
def test_whatever_the_reply_only_voigpt_errors_escape(
    make_client: MakeClient, serve: Serve, case: str
) -> None:
    server = serve(normal_except(post=RESULT_OR_ERROR[case]))
    client = make_client(base_url=server.url, timeout=2)

    outcome = run(lambda: client.ask("hi"))

    expect_result_or_error(outcome, what=case)
    if outcome.error is None:
        right = EXPECTED.get(case, TEXT)
        assert outcome.value == right, f"{case}: a wrong reply: {outcome.describe()}"
    expect_within(outcome, 2, what=case)


GET_ANSWERS: dict[str, Script] = {
    "cookie-with-control-chars": raw(response(200, "<html/>", content_type="text/html",
                                              headers=[("Set-Cookie", "csrftoken=a\x01b; Path=/")]),
                                     close=False),
    "cookie-non-ascii-bytes": raw(b"HTTP/1.1 200 OK\r\nSet-Cookie: csrftoken=\xc3\xa9t\xc3\xa9;"
                                  b" Path=/\r\nContent-Length: 0\r\n\r\n", close=False),
    "cookie-8kB": raw(response(200, "", headers=[("Set-Cookie", "csrftoken=" + "a" * 8000)]),
                      close=False),
    "cookie-empty": raw(response(200, "", headers=[("Set-Cookie", "csrftoken=; Path=/")]),
                        close=False),
    "cookie-quoted": raw(response(200, "", headers=[("Set-Cookie", 'csrftoken="a;b"; Path=/')]),
                         close=False),
    "cookie-200-headers": raw(response(200, "", headers=[
        ("Set-Cookie", f"c{n}={n}; Path=/") for n in range(200)]), close=False),
    "get-status-garbage": raw(b"HTTP/1.1 OK 200\r\n\r\n"),
    "get-nested-html": typed("text/html; charset=rot13", b"<div>" * 100_000),
    "get-gzip-bomb": lambda conn, req: encoded("gzip", gzip_bomb())(conn, req),
}


@pytest.mark.parametrize("case", list(GET_ANSWERS))
def test_whatever_get_answers_only_voigpt_errors_escape(
    make_client: MakeClient, serve: Serve, case: str
) -> None:
    server = serve(normal_except(get=GET_ANSWERS[case]))
    client = make_client(base_url=server.url, timeout=2)

    outcome = run(lambda: client.ask("hi"))

    expect_result_or_error(outcome, what=case)
    if outcome.error is None:
        assert outcome.value == "reply to: hi", f"{case}: {outcome.describe()}"
    sent = [request.wire() for request in server.seen("POST")]
    assert not any("\x01" in wire or "\r\n\r\n" in wire for wire in sent), sent


@pytest.mark.parametrize(
    "retry_after",
    ["1e999", "nan", "-5", "Fri, 99 Xyz 99999 99:99:99 GMT", "Fri, 31 Dec 9999 23:59:59 GMT",
     "Mon, 01 Jan 0001 00:00:00 GMT", "\uff11", "\x00", "3" * 5000],
    ids=lambda value: repr(value[:30]),
)
def test_odd_retry_after_stays_within_the_deadline(
    make_client: MakeClient, serve: Serve, retry_after: str
) -> None:
    server = serve(normal_except(post=raw(response(
        429, "slow down", headers=[("Retry-After", retry_after)]), close=False)))
    client = make_client(base_url=server.url, timeout=1, retries=1)

    outcome = run(lambda: client.ask("hi"))

    expect_error(outcome, what=f"Retry-After: {retry_after[:40]!r}")
    expect_within(outcome, 1, what=f"Retry-After: {retry_after[:40]!r}")


# -- decoded as JSON is: UTF-8, a BOM tolerated -------------------------------------------------

@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        pytest.param("text/html", REPLY, id="text-html-no-charset"),
        pytest.param("text/plain", REPLY, id="text-plain-no-charset"),
        pytest.param(None, REPLY, id="no-content-type"),
        pytest.param("application/octet-stream", REPLY, id="octet-stream"),
        pytest.param("text/html; charset=iso-8859-1", REPLY, id="claims-latin-1"),
        pytest.param("application/json", b"\xef\xbb\xbf" + REPLY, id="utf8-bom"),
        pytest.param("text/html", b"\xef\xbb\xbf" + REPLY, id="utf8-bom-text-html"),
        pytest.param("application/json", b"\n\t " + REPLY + b"\r\n", id="whitespace-around"),
        pytest.param("application/json; charset=utf-8",
                     json.dumps({"response": TEXT}).encode(), id="ascii-escaped"),
    ],
)
def test_json_is_read_as_utf8_whatever_the_content_type(
    make_client: MakeClient, serve: Serve, content_type: str | None, body: bytes
) -> None:
    server = serve(normal_except(post=raw(response(200, body, content_type=content_type),
                                          close=False)))
    client = make_client(base_url=server.url, timeout=2)

    outcome = run(lambda: client.ask("hi"))

    assert outcome.error is None and outcome.value == TEXT, (
        f"Content-Type {content_type!r}: expected {TEXT!r}, {outcome.describe()}"
    )


# -- compression and the size cap (defences that hold: kept under test) -------------------------

@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_compression_bomb_is_refused(make_client: MakeClient, serve: Serve, encoding: str) -> None:
    """24 MiB of zeros in ~25 kB: refused as ReplyTooLarge under the default 10 MiB cap."""
    bomb = gzip_bomb() if encoding == "gzip" else deflate_bomb()
    assert len(bomb) < 100_000
    server = serve(normal_except(post=encoded(encoding, bomb)))
    client = make_client(base_url=server.url, timeout=5)

    outcome = run(lambda: client.ask("hi"))

    expect_error(outcome, voigpt.ReplyTooLarge, what=f"{encoding} bomb")
    expect_within(outcome, 5, what=f"{encoding} bomb")


def test_compressed_reply_within_the_cap_is_decoded(
    make_client: MakeClient, serve: Serve
) -> None:
    server = serve(normal_except(post=encoded("gzip", gzip.compress(REPLY))))
    client = make_client(base_url=server.url, timeout=2)

    outcome = run(lambda: client.ask("hi"))

    assert outcome.value == TEXT, outcome.describe()


def exactly(size: int) -> bytes:
    """A valid reply of exactly ``size`` bytes."""
    shell = b'{"response": ""}'
    return b'{"response": "' + b"x" * (size - len(shell)) + b'"}'


CAP = 4096


@pytest.mark.parametrize("framing", ["content-length", "chunked", "close-delimited", "gzip"])
@pytest.mark.parametrize("extra", [0, 1], ids=["at-the-cap", "one-byte-over"])
def test_size_cap_at_the_exact_boundary(
    make_client: MakeClient, serve: Serve, framing: str, extra: int
) -> None:
    body = exactly(CAP + extra)
    assert len(body) == CAP + extra
    if framing == "content-length":
        script = raw(response(200, body), close=False)
    elif framing == "chunked":
        script = raw(head(200, [("Content-Type", "application/json"),
                                ("Transfer-Encoding", "chunked")])
                     + chunked([body[:1000], body[1000:]]), close=False)
    elif framing == "close-delimited":
        script = raw(head(200, [("Content-Type", "application/json"),
                                ("Connection", "close")]) + body)
    else:
        script = encoded("gzip", gzip.compress(body))
    server = serve(normal_except(post=script))
    client = make_client(base_url=server.url, timeout=2, max_reply_bytes=CAP)

    outcome = run(lambda: client.ask("hi"))

    if extra == 0:
        assert outcome.error is None and outcome.value == "x" * (CAP - 16), (
            f"{framing}: a reply of exactly max_reply_bytes was refused: {outcome.describe()}"
        )
    else:
        expect_error(outcome, voigpt.ReplyTooLarge, what=f"{framing}, one byte over the cap")
    assert outcome.elapsed <= bound(2)
