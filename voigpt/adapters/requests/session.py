"""The one ``requests.Session`` a container shares: keep-alive, no cookie jar, browser
headers, and no per-request reading of the environment."""

from __future__ import annotations

import http.cookiejar
import urllib.request

import requests
from requests.adapters import HTTPAdapter

USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)

BROWSER_HEADERS = {
    "User-Agent": USER_AGENT,
    "Accept-Language": "en-US,en;q=0.9",
    "Accept-Encoding": "gzip, deflate",
}


class _KeepNoCookies(http.cookiejar.DefaultCookiePolicy):
    """The session stores no cookies: voigpt sends its token explicitly, so nothing
    accumulates across calls or threads and no stale jar cookie contradicts the header.
    Each response's own ``.cookies`` still sees what the server set."""

    def set_ok(self, cookie: http.cookiejar.Cookie, request: urllib.request.Request) -> bool:
        return False


def build_session(*, pool_size: int = 32) -> requests.Session:
    """A session whose connection pool holds ``pool_size`` keep-alive connections per host,
    enough for that many threads to share it without opening throwaway connections."""
    session = requests.Session()
    # The endpoint reads requests' environment variables once (environment.py), rather
    # than the session re-reading the whole environment on every request.
    session.trust_env = False
    session.cookies.set_policy(_KeepNoCookies())
    session.headers.update(BROWSER_HEADERS)
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
