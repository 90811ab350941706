"""The proxy and CA bundle variables every HTTP adapter honours (``HTTP_PROXY``,
``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY``, ``REQUESTS_CA_BUNDLE``), read as requests
reads them, once when an endpoint is built, like the ``VOIGPT_*`` settings, instead of on
every request. ``~/.netrc`` is not read: voigpt sends no credentials to the site."""

from __future__ import annotations

import contextlib
import os
import ssl
from urllib.parse import unquote, urlsplit

import attrs

from voigpt.adapters.site import credential_forms
from voigpt.domain.errors import InvalidConfig


@attrs.frozen
class Environment:
    proxies: dict[str, str]  # for requests' ``proxies=``: empty when none apply
    ca_bundle: str | None  # for ``verify=``: None leaves the session's own setting

    @classmethod
    def read(cls, url: str) -> Environment:
        """``HTTP_PROXY`` / ``HTTPS_PROXY`` / ``ALL_PROXY`` unless ``NO_PROXY`` matches
        ``url``, and ``REQUESTS_CA_BUNDLE`` (or ``CURL_CA_BUNDLE``), as requests reads them.
        A CA bundle that cannot be loaded is ``InvalidConfig`` now, not at the first call."""
        name = "REQUESTS_CA_BUNDLE" if os.environ.get("REQUESTS_CA_BUNDLE") else "CURL_CA_BUNDLE"
        ca_bundle = os.environ.get(name) or None
        if ca_bundle is not None and not os.path.isdir(ca_bundle):
            _check_bundle(name, ca_bundle)
        import requests.utils  # here: only the HTTP backend reads the environment

        return cls(proxies=dict(requests.utils.get_environ_proxies(url)), ca_bundle=ca_bundle)

    @property
    def credentials(self) -> set[str]:
        """The proxy URLs' passwords, as given and as sent, to keep out of messages."""
        found: set[str] = set()
        for proxy in self.proxies.values():
            with contextlib.suppress(ValueError):
                parts = urlsplit(proxy)
                user, password = parts.username, parts.password
                found |= credential_forms(user and unquote(user), password and unquote(password))
        return found


# Bundles already loaded whole by this process, by path and what stat says of the file:
# parsing a system bundle (~150 certificates) takes ~30 ms, and every container reads the
# environment again when it is closed. An edited or replaced file is checked again.
_LOADED: set[tuple[str, int, int, int]] = set()


def _check_bundle(name: str, path: str) -> None:
    """``InvalidConfig`` unless ``path`` loads as a PEM file of CA certificates."""
    try:
        stat = os.stat(path)
        seen = (path, stat.st_ino, stat.st_size, stat.st_mtime_ns)
        if seen in _LOADED:
            return
        ssl.create_default_context(cafile=path)
    except (OSError, ValueError, ssl.SSLError) as exc:
        raise InvalidConfig(
            f"${name} ({path!r}) is not a readable PEM file of CA certificates "
            f"({type(exc).__name__})"
        ) from None
    _LOADED.add(seen)
