"""The four clients the harness compares, each a callable doing one completion.

(a) voigpt's use case as built by the container, called the way ``Client.complete`` does;
(b) the g4f-compatible ``VoiGpt`` facade;
(c) the floor: one keep-alive ``requests.Session`` doing the bare protocol and nothing else;
(d) the seed's way: ``requests.post`` per call (a new connection each time), token cached.
"""

from __future__ import annotations

from typing import Any, Protocol

import requests
from requests.adapters import HTTPAdapter

from voigpt import Client, VoiGpt

MESSAGES = [{"role": "user", "content": "ping"}]
EXPECTED = "[voigpt emulator] You said: ping"


class BenchClient(Protocol):
    key: str
    label: str

    def __call__(self) -> str: ...

    def close(self) -> None: ...


def checked(client: BenchClient) -> None:
    """One completion by ``client``; ``RuntimeError`` if the reply is not the expected one."""
    reply = client()
    if reply != EXPECTED:
        raise RuntimeError(f"{client.label} got {reply!r}, expected {EXPECTED!r}")


class VoigptUseCase:
    key, label = "a", "(a) voigpt use case (container)"

    def __init__(self, url: str) -> None:
        self._client = Client(base_url=url, environ={})

    def __call__(self) -> str:
        return self._client.complete(MESSAGES).text

    def close(self) -> None:
        self._client.close()


class Facade:
    key, label = "b", "(b) VoiGpt facade"

    def __init__(self, url: str) -> None:
        VoiGpt.close()
        VoiGpt.url = url
        VoiGpt._access_token = None

    def __call__(self) -> str:
        return "".join(VoiGpt.create_completion("gpt-3.5-turbo", MESSAGES, False))

    def close(self) -> None:
        VoiGpt.close()


def _token(url: str) -> str:
    response = requests.get(url + "/", timeout=10)
    response.raise_for_status()
    return str(response.cookies["csrftoken"])


class Floor:
    key, label = "c", "(c) floor: bare keep-alive Session"

    def __init__(self, url: str) -> None:
        self._session = requests.Session()
        # As large a pool as voigpt's, so threads sharing it keep their connections alive.
        self._session.mount(url.split("://")[0] + "://", HTTPAdapter(pool_maxsize=32))
        token = _token(url)
        self._url = url + "/generate_response/"
        self._headers = {
            "Cookie": f"csrftoken={token}",
            "X-CSRFToken": token,
            "Origin": url,
            "Referer": url + "/",
        }

    def __call__(self) -> str:
        response = self._session.post(
            self._url, headers=self._headers, json={"messages": MESSAGES}
        )
        return str(response.json()["response"])

    def close(self) -> None:
        self._session.close()


class SeedStyle:
    """What g4f's provider does per call: module-level ``requests.post``, its headers."""

    key, label = "d", "(d) seed-style requests.post per call"

    def __init__(self, url: str) -> None:
        self._url = url
        self._token = _token(url)  # the seed caches it on the class

    def __call__(self) -> str:
        url, token = self._url, self._token
        headers: dict[str, Any] = {
            "authority": url.split("//")[1],
            "accept": "*/*",
            "accept-language": "de-DE,de;q=0.9,en-DE;q=0.8,en;q=0.7,en-US;q=0.6",
            "content-type": "application/json",
            "Cookie": f"csrftoken={token}",
            "origin": url,
            "referer": url + "/",
            "sec-fetch-mode": "cors",
            "sec-fetch-site": "same-origin",
            "user-agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36",
            "X-CSRFToken": token,
        }
        response = requests.post(
            url + "/generate_response/", headers=headers, json={"messages": MESSAGES}
        )
        try:
            return str(response.json()["response"])
        except Exception as exc:
            raise RuntimeError(f"Response: {response.text}") from exc

    def close(self) -> None:
        pass


ALL = (VoigptUseCase, Facade, Floor, SeedStyle)
