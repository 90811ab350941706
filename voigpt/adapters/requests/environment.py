"""requests' own environment variables (proxies, ``NO_PROXY``, the CA bundle), read once
when an endpoint is built, like the ``VOIGPT_*`` settings, instead of on every request.
``~/.netrc`` is not read: voigpt sends no credentials to the site."""

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
