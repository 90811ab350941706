"""The opt-in HTTP control endpoint (``/__emulator__/...``), on and off."""

from __future__ import annotations

import pytest
import requests

from tests.emulator.helpers import GENERATE, HELLO, csrf_headers, fetch_token
from voigpt.emulator import Emulator

FAULTS = "/__emulator__/faults"
STATE = "/__emulator__/state"


def _post_with_token(emulator: Emulator) -> requests.Response:
    return requests.post(
        emulator.url + GENERATE, headers=csrf_headers(fetch_token(emulator)),
        json={"messages": HELLO}, timeout=10,
    )


def test_a_fault_injected_over_http_applies(control_emulator: Emulator) -> None:
    injected = requests.post(
        control_emulator.url + FAULTS,
        json={"fault": "RATE_LIMITED", "times": 1, "endpoint": "generate",
              "params": {"retry_after": 7}},
        timeout=10,
    )
    limited = _post_with_token(control_emulator)
    normal = _post_with_token(control_emulator)

    assert injected.status_code == 204
    assert injected.content == b""
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "7"
    assert normal.status_code == 200


def test_defaults_are_one_generate_fault_without_params(control_emulator: Emulator) -> None:
    injected = requests.post(control_emulator.url + FAULTS, json={"fault": "SERVER_ERROR"},
                             timeout=10)

    assert injected.status_code == 204
    assert [_post_with_token(control_emulator).status_code for _ in range(2)] == [500, 200]


def test_delete_clears_faults(control_emulator: Emulator) -> None:
    requests.post(control_emulator.url + FAULTS, json={"fault": "ANTI_BOT", "times": None},
                  timeout=10)

    assert _post_with_token(control_emulator).status_code == 403
    cleared = requests.delete(control_emulator.url + FAULTS, timeout=10)
    assert cleared.status_code == 204
    assert _post_with_token(control_emulator).status_code == 200


def test_state_reports_counters_but_no_token_values(control_emulator: Emulator) -> None:
    assert _post_with_token(control_emulator).status_code == 200
    requests.post(control_emulator.url + GENERATE, json={"messages": []}, timeout=10)
    requests.post(control_emulator.url + FAULTS, json={"fault": "SLOW"}, timeout=10)

    state = requests.get(control_emulator.url + STATE, timeout=10)

    assert state.status_code == 200
    assert state.json() == {
        "requests": 3,
        "tokens_issued": 1,
        "rejections": 1,
        "completions": 1,
        "faults_pending": 1,
        "replies_pending": 0,
    }
    assert control_emulator.tokens_issued[0] not in state.text
    assert not any(r.path.startswith("/__emulator__") for r in control_emulator.requests)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"{", "not valid JSON"),
        (b"[]", "JSON object"),
        (b"{}", "unknown fault"),
        (b'{"fault": "NOPE"}', "unknown fault"),
        (b'{"fault": 3}', "unknown fault"),
        (b'{"fault": "SLOW", "params": {"delay": -1}}', "delay"),
        (b'{"fault": "SLOW", "params": {"size": 1}}', "does not take"),
        (b'{"fault": "SLOW", "times": 0}', "times"),
        (b'{"fault": "SLOW", "times": "2"}', "times"),
        (b'{"fault": "SLOW", "endpoint": "all"}', "endpoint"),
        (b'{"fault": "SLOW", "params": []}', "params"),
        (b'{"fault": "SLOW", "extra": 1}', "keys among"),
        (b'{"fault": "SLOW", "endpoint": 1}', "endpoint"),
    ],
)
def test_bad_control_requests_get_400(
    control_emulator: Emulator, payload: bytes, message: str
) -> None:
    response = requests.post(control_emulator.url + FAULTS, data=payload, timeout=10)

    assert response.status_code == 400
    assert message in response.json()["error"]
    assert requests.get(control_emulator.url + STATE, timeout=10).json()["faults_pending"] == 0


def test_wrong_methods_on_control_paths_get_405(control_emulator: Emulator) -> None:
    assert requests.get(control_emulator.url + FAULTS, timeout=10).status_code == 405
    assert requests.post(control_emulator.url + STATE, timeout=10).status_code == 405


@pytest.mark.parametrize(("method", "path"), [("POST", FAULTS), ("DELETE", FAULTS),
                                              ("GET", STATE)])
def test_control_paths_are_404_when_control_is_off(
    voigpt_emulator: Emulator, method: str, path: str
) -> None:
    response = requests.request(
        method, voigpt_emulator.url + path, json={"fault": "SERVER_ERROR"}, timeout=10
    )

    assert response.status_code == 404
    assert _post_with_token(voigpt_emulator).status_code == 200
    assert voigpt_emulator.requests[0].path == path
