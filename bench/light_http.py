"""A minimal HTTP/1.1 keep-alive client for the load drivers: real requests over loopback TCP.

httpx spent about 1.8 ms of CPU per request in the intake benchmark, on a 2-core machine where the
whole request must cost under 7 ms: the driver took CPU from the server it measures. This client
does only what the benchmarks need: one connection per concurrent client, POST with a JSON body,
a response with ``Content-Length`` (what uvicorn sends for Starlette's responses) or chunked.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from urllib.parse import urlsplit


class HttpError(RuntimeError):
    pass


class Connection:
    """One keep-alive connection to ``base`` (``http://host:port``)."""

    def __init__(self, base: str, headers: dict[str, str] | None = None) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        self._head = f"Host: {self.host}:{self.port}\r\n{extra}"
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)

    async def post_json(self, path: str, body: object) -> tuple[int, bytes]:
        """``(status, body)`` of a POST of ``body`` as JSON."""
        data = json.dumps(body).encode()
        if self._writer is None:
            await self._open()
        request = (
            f"POST {path} HTTP/1.1\r\n{self._head}Content-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n\r\n"
        ).encode() + data
        self._writer.write(request)  # type: ignore[union-attr]
        return await self._response()

    async def _response(self) -> tuple[int, bytes]:
        reader = self._reader
        assert reader is not None
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            payload = await reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await reader.readexactly(size + 2)
                if size == 0:
                    break
                chunks.append(chunk[:-2])
            payload = b"".join(chunks)
        else:
            raise HttpError("a response without Content-Length or chunked encoding")
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, payload

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(ConnectionError):
                await self._writer.wait_closed()
            self._reader = self._writer = None
