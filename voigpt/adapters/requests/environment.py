"""requests' own environment variables, read once per endpoint instead of once per request.

A ``requests.Session`` that trusts the environment re-reads it on every request: proxy
variables (walking all of ``os.environ``, twice), ``NO_PROXY``, the CA bundle variables and
``~/.netrc``. That was about a tenth of voigpt's CPU per completion. voigpt's session does
not trust the environment; instead the endpoint reads these variables here, once, when it
is built (like the ``VOIGPT_*`` settings), and passes the result on each request. What
requests would have done with them is unchanged, except ``~/.netrc``, which voigpt never
wants (it sends no credentials to the site).
"""

from __future__ import annotations

import os

import attrs
import requests.utils


@attrs.frozen
class RequestsEnvironment:
    proxies: dict[str, str]  # for requests' ``proxies=``: empty when none apply
    ca_bundle: str | None  # for ``verify=``: None leaves the session's own setting

    @classmethod
    def read(cls, url: str) -> RequestsEnvironment:
        """``HTTP_PROXY`` / ``HTTPS_PROXY`` / ``ALL_PROXY`` unless ``NO_PROXY`` matches
        ``url``, and ``REQUESTS_CA_BUNDLE`` (or ``CURL_CA_BUNDLE``), as requests reads them."""
        return cls(
            proxies=dict(requests.utils.get_environ_proxies(url)),
            ca_bundle=os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE"),
        )
