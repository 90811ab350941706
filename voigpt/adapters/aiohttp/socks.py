"""SOCKS5 proxies for the aiohttp sessions, through aiohttp-socks. Imported only when a
SOCKS proxy is used: the rest of the async path runs on aiohttp alone, which g4f brings
without aiohttp-socks (``routes.py`` says what to install when it is missing)."""

from __future__ import annotations

from typing import Any

import aiohttp
from aiohttp_socks import ProxyConnector, ProxyType

from voigpt.adapters.aiohttp.connections import ReuseOnlyClean
from voigpt.domain.proxy import ProxyUrl


class _SocksConnector(ReuseOnlyClean, ProxyConnector):
    pass


def socks_connector(proxy: ProxyUrl, options: dict[str, Any]) -> aiohttp.TCPConnector:
    """A connector that reaches every host through the SOCKS5 ``proxy`` (``socks5h``: the
    proxy resolves the names)."""
    return _SocksConnector(
        host=proxy.host, port=proxy.port, proxy_type=ProxyType.SOCKS5,
        username=proxy.username, password=proxy.password,
        rdns=proxy.scheme == "socks5h", **options,
    )
