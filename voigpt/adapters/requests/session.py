"""The one ``requests.Session`` a container shares: keep-alive, no cookie jar, browser
headers, and no per-request reading of the environment."""

from __future__ import annotations

import http.cookiejar
import ssl
import urllib.request
from typing import Any

import requests
import requests.utils
from requests.adapters import HTTPAdapter

from voigpt.adapters.requests.connections import use_bounded_pools
from voigpt.adapters.requests.sockets import keeping_deadline
from voigpt.adapters.site import BROWSER_HEADERS


class _KeepNoCookies(http.cookiejar.DefaultCookiePolicy):
    """The session stores no cookies: voigpt sends its token explicitly, so nothing
    accumulates across calls or threads and no stale jar cookie contradicts the header.
    Each response's own ``.cookies`` still sees what the server set."""

    def set_ok(self, cookie: http.cookiejar.Cookie, request: urllib.request.Request) -> bool:
        return False


class _VerifiedProxyAdapter(HTTPAdapter):
    """Opens only connections that keep the exchange's deadline (``connections.py``), and
    verifies an ``https://`` proxy's certificate whatever the target's scheme.

    requests verifies the TLS connection to an https proxy only when the target URL is
    https too; for an http:// target it connects to the proxy unverified, and so would send
    the proxy password to whoever answers. This adapter gives every https proxy a verifying
    context, from ``ca_bundle`` or requests' own bundle (certifi)."""

    def __init__(self, *, ca_bundle: str | None, **kwargs: Any) -> None:
        self._ca_bundle = ca_bundle
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        use_bounded_pools(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        if proxy in self.proxy_manager:
            return self.proxy_manager[proxy]
        if proxy.lower().startswith("https://"):
            bundle = self._ca_bundle or requests.utils.DEFAULT_CA_BUNDLE_PATH
            context = keeping_deadline(ssl.create_default_context(cafile=bundle))
            proxy_kwargs.setdefault("proxy_ssl_context", context)
        return use_bounded_pools(super().proxy_manager_for(proxy, **proxy_kwargs))


def build_session(*, pool_size: int = 32, ca_bundle: str | None = None) -> requests.Session:
    """A session whose connection pool holds ``pool_size`` keep-alive connections per host,
    enough for that many threads to share it without opening throwaway connections.
    ``ca_bundle`` (e.g. from ``REQUESTS_CA_BUNDLE``) is what an https proxy is checked
    against; the endpoint passes it for the site itself."""
    session = requests.Session()
    session.trust_env = False  # the endpoint passes what environment.py read, once
    session.cookies.set_policy(_KeepNoCookies())
    session.headers.update(BROWSER_HEADERS)
    session.headers["Accept-Encoding"] = "gzip, deflate"
    adapter = _VerifiedProxyAdapter(ca_bundle=ca_bundle, pool_connections=4,
                                    pool_maxsize=pool_size)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
