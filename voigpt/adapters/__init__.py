"""Adapters, each named after what it is built on.

Driven (the use case calls them): ``requests`` (HTTP), ``proxy`` (proxy URLs for it),
``memory`` (the token cache and the in-memory fakes).
Driving (they call the use case): ``g4f`` (the ``VoiGpt`` provider) and ``cli``.
"""
