"""voigpt.com as a function from a request to a response, independent of sockets: routing,
faults, the two views, the scripted replies, the records, and the opt-in control endpoint.
What a chat request's body holds and the default reply are ``chat``'s."""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from voigpt.emulator import csrf, responses
from voigpt.emulator.chat import parse_request_body, reply_for
from voigpt.emulator.faults import Fault, FaultQueue
from voigpt.emulator.records import RecordedRequest, Records, Rejection
from voigpt.emulator.responses import SERVER_ERROR_PAGES, Response, error, html, json_response
from voigpt.emulator.script import ReplyFunction, ReplyScript, Scripted

LOGGER = logging.getLogger("voigpt.emulator")
ROUTES = {"/": ("GET",), "/generate_response/": ("POST",)}  # path: the methods allowed
CONTROL = {
    "/__emulator__/faults": ("POST", "DELETE"), "/__emulator__/replies": ("POST", "DELETE"),
    "/__emulator__/state": ("GET",),
}


class Site(Records):
    """The site, its state and its records; ``Emulator`` serves it over sockets."""

    def __init__(
        self, *, control: bool, secure: bool, trusted_origins: Iterable[str],
        observer: Callable[[RecordedRequest], object] | None, reply: ReplyFunction = reply_for,
    ) -> None:
        super().__init__()
        self._control, self._observer = control, observer
        self._script = ReplyScript(reply)
        self._csrf = csrf.CsrfGuard(secure=secure, trusted=trusted_origins)
        self._faults = FaultQueue()
        self._stopping = threading.Event()  # also cuts SLOW faults short

    def inject(
        self, fault: Fault | str, *, times: int | None = 1, endpoint: str = "generate",
        **params: object,
    ) -> None:
        """Queue ``fault`` for the next ``times`` requests to ``endpoint`` ("generate" for
        ``POST /generate_response/``, "token" for ``GET /``, or "any"); ``times=None`` keeps it
        until ``clear_faults()``. Faults apply in FIFO order, one per matching request."""
        self._faults.push(fault, times=times, endpoint=endpoint, params=params)

    def clear_faults(self) -> None:
        """Forget the queued faults, kept ones (``times=None``) too: requests are answered
        normally again."""
        self._faults.clear()

    def queue_replies(self, *replies: Scripted) -> None:
        """Queue what the next completions answer, in order (FIFO), before the reply function
        is asked again: texts, or functions (``fn(messages) -> str``, each called once). A
        ``TypeError`` names the first argument that is neither, and then nothing is queued."""
        self._script.push(replies, "queue_replies()")

    def clear_replies(self) -> None:
        """Forget the queued replies: the reply function answers again."""
        self._script.clear()

    @property
    def replies_pending(self) -> int:
        """How many queued replies are still to be used."""
        return self._script.pending()

    def revoke_tokens(self) -> None:
        """Revoke every token issued so far: POSTs with them get 403 until a new ``GET /``."""
        self._csrf.revoke()

    def _record(self, request: RecordedRequest) -> None:
        """Record a request and show it to the observer (control traffic is neither). An
        observer that raises is logged, and the request served all the same."""
        if self._control and urlsplit(request.path).path in CONTROL:
            return
        self._add("requests", request)
        if self._observer is not None:
            try:
                self._observer(request)
            except Exception:
                LOGGER.exception("voigpt emulator: the observer raised")

    def _handle(self, request: RecordedRequest) -> Response | None:
        """Record ``request`` and answer it; None: drop the connection unanswered."""
        path = urlsplit(request.path).path
        self._record(request)
        control = self._control and path in CONTROL
        allowed = CONTROL[path] if control else ROUTES.get(path)
        if allowed is None:
            response: Response | None = error(404, f"The requested resource {path} was not found.")
        elif request.method not in allowed:
            response = html(405, "", ("Allow", ", ".join(allowed)))
        elif control:
            response = self._serve_control(request)
        else:
            response = self._view(request, path)
        status = "dropped" if response is None else response.status
        origin = request.headers.get("origin")  # says which client sent it (-v shows it)
        sent_from = "" if origin is None else f" from Origin {origin!r}"
        LOGGER.debug("%s %s%s -> %s", request.method, path, sent_from, status)
        return response

    def _view(self, request: RecordedRequest, path: str) -> Response | None:
        """The view of ``path``, under the fault queued for it, if any."""
        endpoint = "token" if path == "/" else "generate"
        fault, value = self._faults.take(endpoint) or (None, None)
        if fault is Fault.SLOW and self._stopping.wait(value):
            return None  # stopping: don't answer
        if fault is not None and fault not in (Fault.SLOW, Fault.STALE_TOKEN):
            return responses.fault_response(fault, value)
        stale = fault is Fault.STALE_TOKEN
        return self._index(stale) if endpoint == "token" else self._generate(request, path, stale)

    def _index(self, stale: bool) -> Response:
        """The chat page with a fresh ``csrftoken`` cookie (already revoked when ``stale``)."""
        token = self._csrf.issue(revoked=stale)
        self._add("tokens_issued", token)
        cookie = ("Set-Cookie", csrf.set_cookie(token))
        return html(200, responses.index_page(csrf.mask(token)), cookie, ("Vary", "Cookie"))

    def _generate(self, request: RecordedRequest, path: str, stale: bool) -> Response:
        """The CSRF checks, then the body, then the reply (the next queued one, else the reply
        function's; if that raises or returns a non-str, it is logged and the answer is Django's
        500). ``stale`` (the STALE_TOKEN fault) revokes a token that would have passed, and
        rejects it."""
        reason, token = self._csrf.check(request.headers)
        if reason is None and stale and token is not None:
            self._csrf.revoke(token)
            reason = csrf.TOKEN_INCORRECT
        if reason is not None:
            self._add("rejections", Rejection(path, reason, 403, token))
            LOGGER.debug("CSRF verification failed: %s", reason)
            return html(403, responses.csrf_failure_page(reason))
        try:
            messages = parse_request_body(request.body)
        except ValueError as exc:
            return json_response(400, {"error": str(exc)})
        try:
            response = json_response(200, {"response": self._script.reply(messages)})
        except Exception:
            LOGGER.exception("voigpt emulator: the reply function failed")
            return html(500, SERVER_ERROR_PAGES[500])
        self._add("completions")
        return response

    def _serve_control(self, request: RecordedRequest) -> Response:
        """``/__emulator__/faults`` and ``.../replies`` (POST queues, DELETE clears) and
        ``.../state`` (GET)."""
        if request.method == "GET":
            state = dataclasses.asdict(self.totals)
            pending = {"faults_pending": self._faults.pending(),
                       "replies_pending": self.replies_pending}
            return json_response(200, {**state, **pending})
        replies = urlsplit(request.path).path == "/__emulator__/replies"
        if request.method == "DELETE":
            if replies:
                self.clear_replies()
            else:
                self.clear_faults()
            return Response(204)
        try:
            if replies:
                self._script.push_json(request.body)
            else:
                self._faults.push_json(request.body)
        except (TypeError, ValueError) as exc:
            return json_response(400, {"error": str(exc)})
        return Response(204)
