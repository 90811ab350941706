"""The emulated site: routing, fault application and recording, independent of sockets."""

from __future__ import annotations

import logging
import threading
from urllib.parse import urlsplit

from voigpt.emulator import views
from voigpt.emulator.control import CONTROL_PREFIX, handle_control
from voigpt.emulator.csrf import TokenRegistry
from voigpt.emulator.fault_responses import fault_response
from voigpt.emulator.faults import Endpoint, Fault, FaultQueue
from voigpt.emulator.pages import not_found_page
from voigpt.emulator.records import RecordedRequest, Recorder
from voigpt.emulator.responses import DJANGO_HEADERS, HTML, Drop, Outcome, Response, html_response

_ROUTES = {"/": (Endpoint.TOKEN, "GET"), "/generate_response/": (Endpoint.GENERATE, "POST")}


class Site:
    """voigpt.com as a function from a request to an outcome, with its state."""

    def __init__(self, *, control: bool, logger: logging.Logger, stopping: threading.Event):
        self.control = control
        self.logger = logger
        self.tokens = TokenRegistry()
        self.faults = FaultQueue()
        self.recorder = Recorder()
        self._stopping = stopping

    def is_control(self, path: str) -> bool:
        return self.control and urlsplit(path).path.startswith(CONTROL_PREFIX)

    def record(self, request: RecordedRequest) -> None:
        """Record a request (control-endpoint traffic is not recorded)."""
        if not self.is_control(request.path):
            self.recorder.add_request(request)

    def handle(self, request: RecordedRequest) -> Outcome:
        """Record ``request`` and answer it."""
        path = urlsplit(request.path).path
        if self.is_control(request.path):
            return handle_control(request, path, self.faults, self.recorder)
        self.recorder.add_request(request)
        outcome = self._route(request, path)
        status = outcome.status if isinstance(outcome, Response) else "dropped"
        self.logger.debug("%s %s -> %s", request.method, path, status)
        return outcome

    def _route(self, request: RecordedRequest, path: str) -> Outcome:
        route = _ROUTES.get(path)
        if route is None:
            return html_response(404, not_found_page(path), DJANGO_HEADERS)
        endpoint, method = route
        if request.method != method:
            return Response(405, (("Allow", method), ("Content-Type", HTML), *DJANGO_HEADERS))
        active = self.faults.take(endpoint)
        if active is not None and active.fault is Fault.SLOW:
            if self._stopping.wait(active.params.delay):
                return Drop()  # the emulator is stopping: don't answer
            active = None
        stale = active is not None and active.fault is Fault.STALE_TOKEN
        if active is not None and not stale:
            return fault_response(active)
        if endpoint is Endpoint.TOKEN:
            return views.index(self.tokens, self.recorder, stale=stale)
        return views.generate_response(
            request, path, self.tokens, self.recorder, self.logger, stale=stale
        )
