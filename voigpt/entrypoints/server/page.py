"""The chat page at ``/``: static HTML, CSS and plain JavaScript shipped in the package
(``static/``), with no build step, no CDN and no inline script.

Every file is read once, when the app is built, and served from memory with a strict
Content-Security-Policy (this origin only), ``nosniff``, no referrer, and an ETag so that
a reload costs a 304. The libraries in ``static/vendor/`` have their version in their path,
so a browser keeps them for a year without asking again. The page needs no API key to load;
what it asks of ``/v1/*`` does.
"""

from __future__ import annotations

import hashlib
from importlib import resources

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from voigpt.entrypoints.server.errors import APIError

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
REVALIDATE = "no-cache"  # the page's own files change in place
IMMUTABLE = "public, max-age=31536000, immutable"  # vendor/NAME-VERSION/... never does
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}


class _File:
    def __init__(self, body: bytes, media_type: str, cache_control: str) -> None:
        self.body, self.media_type = body, media_type
        self.etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        self.headers = {**SECURITY_HEADERS, "Cache-Control": cache_control, "ETag": self.etag}

    def response(self, request: Request) -> Response:
        if self.etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=self.headers)
        return Response(self.body, media_type=self.media_type, headers=self.headers)


def static_files() -> dict[str, _File]:
    """The page's files by path under ``static/`` (``index.html``, ``app.js``,
    ``vendor/...``), read from the package; licences and notes are not served."""
    files: dict[str, _File] = {}
    folders = [("", resources.files(__package__).joinpath("static"))]
    while folders:
        prefix, folder = folders.pop()
        for entry in folder.iterdir():
            path = prefix + entry.name
            suffix = "." + path.rpartition(".")[2]
            if entry.is_dir():
                folders.append((path + "/", entry))
            elif entry.is_file() and suffix in MEDIA_TYPES:
                cache = IMMUTABLE if path.startswith("vendor/") else REVALIDATE
                files[path] = _File(entry.read_bytes(), MEDIA_TYPES[suffix], cache)
    return files


def add_page(app: FastAPI) -> None:
    """Serve ``GET /`` (the page) and ``GET /static/PATH`` (its files), outside the
    OpenAPI schema."""
    files = static_files()
    index = files.pop("index.html")

    @app.get("/", include_in_schema=False)
    async def page(request: Request) -> Response:
        return index.response(request)

    @app.get("/static/{name:path}", include_in_schema=False)
    async def static(name: str, request: Request) -> Response:
        found = files.get(name)
        if found is None:
            raise APIError(404, f"no route GET /static/{name}", code="unknown_url")
        return found.response(request)
