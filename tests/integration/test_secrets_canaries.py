"""Canary values for a token and a proxy password must never show: not in DEBUG logs of any
library, not in exception messages, reprs or full tracebacks (causes included)."""

from __future__ import annotations

import logging
import traceback

import pytest

from tests.support.messages import HELLO
from tests.support.proxies import PASSWORD, RunningProxy
from voigpt import Client, VoiGptError
from voigpt.emulator import Emulator

TOKEN_CANARY = "CANARYtok3n0123456789"
PROXY_CANARY = "CANARYpr0xypw"


def shown(caplog: pytest.LogCaptureFixture, *objects: object) -> str:
    parts = [caplog.text, *(r.getMessage() for r in caplog.records)]
    for obj in objects:
        parts.append(repr(obj))
        if isinstance(obj, BaseException):
            parts.append("".join(traceback.format_exception(obj)))
    return "\n".join(parts)


def test_a_working_proxied_call_logs_neither_token_nor_proxy_password(
    voigpt_emulator: Emulator, proxy: RunningProxy, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = Client(base_url=voigpt_emulator.url, proxy=proxy.url("http"), environ={})
    with client:
        client.complete(HELLO)
        text = shown(caplog, client, client.container.config())
    ours = [r for r in caplog.records if not r.name.startswith("voigpt.emulator")]
    assert ours, "DEBUG logging produced nothing to check"
    assert voigpt_emulator.tokens_issued[0] not in text
    assert PASSWORD not in text


@pytest.mark.parametrize("scheme", ["http", "socks5"])
def test_a_refused_proxy_password_stays_hidden_in_the_whole_traceback(
    scheme: str, voigpt_emulator: Emulator, proxy: RunningProxy, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    url = proxy.url(scheme, password=PROXY_CANARY)
    client = Client(base_url=voigpt_emulator.url, proxy=url, retries=0, environ={})
    with client, pytest.raises(VoiGptError) as info:
        client.complete(HELLO)
    assert PROXY_CANARY not in shown(caplog, info.value, client)


def test_a_rejected_explicit_token_stays_hidden(
    voigpt_emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with Client(base_url=voigpt_emulator.url, access_token=TOKEN_CANARY, environ={}) as client:
        with pytest.raises(VoiGptError, match="get a fresh csrftoken") as info:
            client.complete(HELLO)
        text = shown(caplog, info.value, client, client.container.config())
    assert voigpt_emulator.requests[0].headers["x-csrftoken"] == TOKEN_CANARY  # really sent
    assert TOKEN_CANARY not in text
