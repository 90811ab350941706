"""voigpt.com as a function from a request to an outcome, independent of sockets: routing,
faults, the two views, the records, and the opt-in control endpoint."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterable
from html import escape
from urllib.parse import urlsplit

from voigpt.emulator import csrf
from voigpt.emulator.faults import Fault, FaultQueue
from voigpt.emulator.protocol import BadRequestBody, parse_request_body, reply_for
from voigpt.emulator.records import RecordedRequest, Records, Rejection
from voigpt.emulator.responses import (
    DJANGO_HEADERS,
    HTML,
    Drop,
    Outcome,
    Response,
    csrf_failure_page,
    fault_response,
    html,
    index_page,
    json_response,
    page,
)

ROUTES = {"/": ("token", "GET"), "/generate_response/": ("generate", "POST")}
CONTROL_PREFIX = "/__emulator__/"
CONTROL_METHODS = {"faults": ("POST", "DELETE"), "state": ("GET",)}


class Site(Records):
    """The site, its state and its records; ``Emulator`` serves it over sockets."""

    def __init__(
        self, *, control: bool, logger: logging.Logger, secure: bool,
        trusted_origins: Iterable[str], observer: Callable[[RecordedRequest], object] | None,
    ) -> None:
        super().__init__()
        self._control, self._logger, self._observer = control, logger, observer
        self._csrf = csrf.CsrfGuard(secure=secure, trusted=trusted_origins)
        self._faults = FaultQueue()
        self._stopping = threading.Event()  # also cuts SLOW faults short
        self._netloc = ""  # the Host assumed for a request without one

    def inject(
        self, fault: Fault | str, *, times: int | None = 1, endpoint: str = "generate",
        **params: object,
    ) -> None:
        """Queue ``fault`` for the next ``times`` requests to ``endpoint`` ("generate" for
        ``POST /generate_response/``, "token" for ``GET /``, or "any"); ``times=None`` keeps it
        until ``clear_faults()``. Faults apply in FIFO order, one per matching request."""
        self._faults.push(fault, times=times, endpoint=endpoint, params=params)

    def clear_faults(self) -> None:
        self._faults.clear()

    def revoke_tokens(self) -> None:
        """Revoke every token issued so far: POSTs with them get 403 until a new ``GET /``."""
        self._csrf.revoke()

    def _is_control(self, target: str) -> bool:
        return self._control and urlsplit(target).path.startswith(CONTROL_PREFIX)

    def _record(self, request: RecordedRequest) -> None:
        """Record a request and show it to the observer (control traffic is neither). An
        observer that raises is logged, and the request served all the same."""
        if self._is_control(request.path):
            return
        self._add_request(request)
        if self._observer is not None:
            try:
                self._observer(request)
            except Exception:
                self._logger.exception("voigpt emulator: the observer raised")

    def _handle(self, request: RecordedRequest) -> Outcome:
        """Record ``request`` and answer it."""
        path = urlsplit(request.path).path
        if self._is_control(request.path):
            return self._serve_control(request, path[len(CONTROL_PREFIX) :])
        self._record(request)
        outcome = self._route(request, path)
        status = outcome.status if isinstance(outcome, Response) else "dropped"
        self._logger.debug("%s %s -> %s", request.method, path, status)
        return outcome

    def _route(self, request: RecordedRequest, path: str) -> Outcome:
        route = ROUTES.get(path)
        if route is None:
            text = f"<h1>Not Found</h1><p>The requested resource {escape(path)} was not found.</p>"
            return html(404, page("Not Found", text), DJANGO_HEADERS)
        endpoint, method = route
        if request.method != method:
            return Response(405, (("Allow", method), ("Content-Type", HTML), *DJANGO_HEADERS))
        active = self._faults.take(endpoint)
        if active is not None and active[0] is Fault.SLOW:
            if self._stopping.wait(active[1].delay):
                return Drop()  # stopping: don't answer
            active = None
        stale = active is not None and active[0] is Fault.STALE_TOKEN
        if active is not None and not stale:
            return fault_response(*active)
        if endpoint == "token":
            return self._index(stale=stale)
        return self._generate(request, path, stale=stale)

    def _index(self, *, stale: bool) -> Response:
        """The chat page with a fresh ``csrftoken`` cookie (already revoked when ``stale``)."""
        token = self._csrf.issue(revoked=stale)
        self._add_token(token)
        headers = (("Set-Cookie", csrf.set_cookie(token, time.time())), ("Vary", "Cookie"))
        return html(200, index_page(csrf.mask(token)), (*headers, *DJANGO_HEADERS))

    def _generate(self, request: RecordedRequest, path: str, *, stale: bool) -> Response:
        """The CSRF checks, then the body, then the reply. ``stale`` (the STALE_TOKEN fault)
        revokes a token that would have passed, and rejects it."""
        verdict = self._csrf.check(request.headers, request.headers.get("host") or self._netloc)
        reason = verdict.reason
        if reason is None and stale and verdict.token is not None:
            self._csrf.revoke(verdict.token)
            reason = csrf.REASON_TOKEN_INCORRECT
        if reason is not None:
            self._add_rejection(Rejection(path, reason, 403, verdict.token))
            self._logger.debug("CSRF verification failed: %s", reason)
            return html(403, csrf_failure_page(reason), DJANGO_HEADERS)
        try:
            messages = parse_request_body(request.body)
        except BadRequestBody as exc:
            return json_response(400, {"error": str(exc)}, DJANGO_HEADERS)
        self._add_completion()
        return json_response(200, {"response": reply_for(messages)}, DJANGO_HEADERS)

    def _serve_control(self, request: RecordedRequest, name: str) -> Response:
        """``/__emulator__/faults`` (POST injects, DELETE clears) and ``.../state`` (GET)."""
        allowed = CONTROL_METHODS.get(name)
        if allowed is None:
            return json_response(404, {"error": f"no control endpoint {CONTROL_PREFIX}{name}"})
        if request.method not in allowed:
            return Response(405, (("Allow", ", ".join(allowed)), ("Content-Type", HTML)))
        if request.method == "GET":
            state = dataclasses.asdict(self.totals)
            return json_response(200, {**state, "faults_pending": self._faults.pending()})
        if request.method == "DELETE":
            self.clear_faults()
            return Response(204)
        try:
            self._faults.push_json(request.body)
        except (TypeError, ValueError) as exc:
            return json_response(400, {"error": str(exc)})
        return Response(204)
