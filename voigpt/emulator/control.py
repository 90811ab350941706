"""The opt-in control endpoint: inject/clear faults and read counters over HTTP."""

from __future__ import annotations

import json

from voigpt.emulator.faults import FaultQueue
from voigpt.emulator.records import RecordedRequest, Recorder
from voigpt.emulator.responses import HTML, Response, json_response

CONTROL_PREFIX = "/__emulator__/"
FAULTS_PATH = "/__emulator__/faults"
STATE_PATH = "/__emulator__/state"
_FAULT_KEYS = {"fault", "times", "endpoint", "params"}


class _BadControlRequest(ValueError):
    pass


def _not_allowed(allow: str) -> Response:
    return Response(405, (("Allow", allow), ("Content-Type", HTML)))


def _inject(body: bytes, faults: FaultQueue) -> None:
    try:
        data = json.loads(body)
    except ValueError:
        raise _BadControlRequest("body is not valid JSON") from None
    if not isinstance(data, dict):
        raise _BadControlRequest("body must be a JSON object")
    unknown = sorted(set(data) - _FAULT_KEYS)
    if unknown:
        raise _BadControlRequest(f"unknown keys {unknown}; allowed: {sorted(_FAULT_KEYS)}")
    fault, endpoint = data.get("fault"), data.get("endpoint", "generate")
    times, params = data.get("times", 1), data.get("params", {})
    if not isinstance(fault, str) or not isinstance(endpoint, str):
        raise _BadControlRequest('"fault" and "endpoint" must be strings')
    if not isinstance(params, dict):
        raise _BadControlRequest('"params" must be an object')
    try:
        faults.push(fault, times=times, endpoint=endpoint, params=params)
    except (TypeError, ValueError) as exc:
        raise _BadControlRequest(str(exc)) from None


def handle_control(
    request: RecordedRequest, path: str, faults: FaultQueue, recorder: Recorder
) -> Response:
    """Serve a request under ``/__emulator__/``."""
    if path == FAULTS_PATH:
        if request.method == "POST":
            try:
                _inject(request.body, faults)
            except _BadControlRequest as exc:
                return json_response(400, {"error": str(exc)})
            return Response(204)
        if request.method == "DELETE":
            faults.clear()
            return Response(204)
        return _not_allowed("POST, DELETE")
    if path == STATE_PATH:
        if request.method == "GET":
            return json_response(200, {**recorder.counts(), "faults_pending": faults.pending()})
        return _not_allowed("GET")
    return json_response(404, {"error": f"no control endpoint {path}"})
