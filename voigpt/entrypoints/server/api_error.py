"""``APIError``: the one exception for an answer other than success, whoever raises it (an
endpoint, the gate, a FastAPI route, the connection layer), with what its body says in
OpenAI's shape. ``errors.py`` turns everything else a request raises into one of these.
"""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException

INVALID = "invalid_request_error"


class APIError(HTTPException):
    """An answer other than success: raised anywhere in a request, turned into the
    response by the app's handler. An ``HTTPException``, so that FastAPI passes it on
    unchanged even when it is raised while the body is being read (the size cap)."""

    def __init__(
        self, status: int, message: str, *, type: str = INVALID, param: str | None = None,
        code: str | None = None, headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status, message, headers or {})
        self.status, self.message, self.type = status, message, type
        self.param, self.code = param, code

    def body(self) -> bytes:
        error = {"message": self.message, "type": self.type, "param": self.param,
                 "code": self.code}
        return json.dumps({"error": error}, ensure_ascii=False).encode()
