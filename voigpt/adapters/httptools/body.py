"""An answer's body as it arrives: decompressed (gzip or deflate, as aiohttp reads them)
and within the cap, so that a compression bomb stops at the cap too."""

from __future__ import annotations

import zlib
from typing import Literal

Problem = Literal["too-large", "mid-reply"]  # a corrupt compressed body: as aiohttp says


class Body:
    def __init__(self, cap: int, encoding: str) -> None:
        self.cap, self.size = cap, 0
        self.chunks: list[bytes] = []
        self._decoder: zlib._Decompress | None = None
        self._raw_deflate = False
        encoding = encoding.strip().lower()
        if encoding in ("gzip", "x-gzip"):
            self._decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._decoder = zlib.decompressobj(zlib.MAX_WBITS)
        self.problem: Problem | None = None

    def add(self, data: bytes) -> None:
        """Take a piece of the body; ``problem`` says if it cannot be taken."""
        if self._decoder is not None:
            data = self._inflate(data)
        if self.problem is None:
            self._keep(data)

    def finish(self) -> bytes | None:
        """The whole body, or None (``problem`` says why)."""
        if self._decoder is not None and self.problem is None:
            try:
                self._keep(self._decoder.flush())
            except zlib.error:
                self.problem = "mid-reply"
        return None if self.problem is not None else b"".join(self.chunks)

    def _inflate(self, data: bytes) -> bytes:
        assert self._decoder is not None
        room = self.cap - self.size + 1
        try:
            out = self._decoder.decompress(data, room)
        except zlib.error:
            if self._raw_deflate or self.size or self.chunks:
                self.problem = "mid-reply"
                return b""
            # "deflate" sent raw, without the zlib wrapper: aiohttp reads it, and so here
            self._raw_deflate = True
            self._decoder = zlib.decompressobj(-zlib.MAX_WBITS)
            return self._inflate(data)
        if self._decoder.unconsumed_tail:
            self.problem = "too-large"
        return out

    def _keep(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.cap:
            self.problem = "too-large"
        else:
            self.chunks.append(data)
