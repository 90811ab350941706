"""How requests reach the site: directly, through an http(s) proxy (aiohttp's ``proxy=``),
or through a SOCKS5 proxy (a connector of its own, ``sessions.py``); the configured proxy,
else the environment's."""

from __future__ import annotations

import base64
import importlib
import sys
from typing import Any

import attrs
from yarl import URL

from voigpt.adapters.environment import Environment
from voigpt.adapters.site import BROWSER_HEADERS
from voigpt.domain.errors import InvalidConfig, InvalidProxy
from voigpt.domain.proxy import ProxyUrl

SESSION_HEADERS = {**BROWSER_HEADERS, "Accept-Encoding": "gzip, deflate"}
SOCKS_SCHEMES = ("socks5", "socks5h")


def chosen_proxy(
    base_url: str, proxy: ProxyUrl | None, environment: Environment
) -> ProxyUrl | None:
    """The configured proxy; without one, the environment's for the site's scheme (as
    requests picks it: ``scheme``, then ``all``), already filtered by ``NO_PROXY``."""
    if proxy is not None:
        return proxy
    scheme = base_url.partition(":")[0].lower()
    found = environment.proxies.get(scheme) or environment.proxies.get("all")
    if not found:
        return None
    if "://" not in found:
        found = "http://" + found  # requests' reading of a bare host:port
    return ProxyUrl.parse(found, where="the proxy from HTTP_PROXY/HTTPS_PROXY/ALL_PROXY")


@attrs.frozen
class Route:
    """How requests reach the site: ``proxy`` (None: directly), the options each request
    passes to aiohttp, the headers every request of the session carries, and whether TLS
    is spoken (to the site or to an https proxy).

    An http(s) proxy goes in aiohttp's ``proxy=`` (without credentials); its Basic
    credentials go in ``Proxy-Authorization``: on the request itself for an http:// site
    (sent to the proxy in absolute form), in ``proxy_headers=`` (the CONNECT) for https://.
    A SOCKS proxy is a connector of its own (``open_session``)."""

    proxy: ProxyUrl | None
    options: dict[str, Any]
    headers: dict[str, str]
    tls: bool

    @classmethod
    def to(cls, base_url: str, proxy: ProxyUrl | None) -> Route:
        secure = base_url.lower().startswith("https:")
        tls = secure or (proxy is not None and proxy.scheme == "https")
        headers = dict(SESSION_HEADERS)
        if proxy is not None and proxy.scheme in SOCKS_SCHEMES:
            _require_socks_support(proxy)
        if proxy is None or proxy.scheme not in ("http", "https"):
            return cls(proxy, {}, headers, tls)
        if secure and proxy.scheme == "https" and sys.version_info < (3, 11):
            raise InvalidProxy(
                f"proxy {proxy.redacted()}: an https:// proxy to an https:// site needs TLS "
                "inside TLS, which asyncio has from Python 3.11 on; use an http:// or socks5:// "
                "proxy, or the sync Client"
            )
        address = URL(attrs.evolve(proxy, username=None, password=None).url)
        options: dict[str, Any] = {"proxy": address}
        if proxy.username is not None:
            pair = f"{proxy.username}:{proxy.password or ''}".encode("latin-1")
            credentials = {"Proxy-Authorization": "Basic " + base64.b64encode(pair).decode()}
            if secure:
                options["proxy_headers"] = credentials
            else:
                headers.update(credentials)
        return cls(proxy, options, headers, tls)


def _require_socks_support(proxy: ProxyUrl) -> None:
    """SOCKS goes through aiohttp-socks, part of the ``async`` extra but not of aiohttp
    (which g4f brings on its own): without it, say what to install, before any I/O."""
    try:
        importlib.import_module("aiohttp_socks")
    except ImportError:
        raise InvalidConfig(
            f"proxy {proxy.redacted()}: a SOCKS proxy with AsyncClient or the g4f provider's "
            "async path needs aiohttp-socks, which is not installed: pip install "
            "'voigpt[async]'"
        ) from None
