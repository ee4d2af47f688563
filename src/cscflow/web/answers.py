"""Answers sent again from memory: an ASGI middleware, inside the security checks, that keeps each ``200`` answer
of the read-only API views by path, query and the workspace's write generation, and sends it again to the next
identical request without routing it, validating it again or handing it to a worker thread.

Only GETs of views that depend on nothing but the workspace and the app's map are kept (:data:`VIEWS`); the
linkage review and the practices pages, which the app can write to, always go through (the overdue clocks of the
map's overlay, ``/api/overdue``, are kept: they do not depend on the reviews stored). Answers share the
app's cache and its byte budget (:class:`cscflow.web.app.WebState`).

An answer of at least :data:`GZIP_MIN` bytes is also kept gzip-compressed (compressed once, in a worker thread,
after it was first sent) and sent so to clients that accept gzip, as browsers do: the tracks blob of a county
(~26 MB) goes out as ~4.5 MB, and the event loop is not held by copying it while other requests wait.
"""

from __future__ import annotations

import asyncio
import gzip
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from cscflow.web.app import WebState

#: Path prefixes of the read-only views whose answers are kept.
VIEWS = ("/api/map", "/api/events", "/api/counts", "/api/stations/", "/api/children/", "/api/flow/",
         "/api/stats", "/api/tracks", "/api/stays", "/api/overdue")
#: Answers from this size on are also kept gzip-compressed for clients that accept it.
GZIP_MIN = 8192


def _accepts_gzip(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"accept-encoding":
            return b"gzip" in value.lower()
    return False


def _gzipped(headers: list[tuple[bytes, bytes]], body: bytes) -> tuple[list[tuple[bytes, bytes]], bytes]:
    packed = gzip.compress(body, compresslevel=6, mtime=0)
    kept = [(k, v) for k, v in headers if k.lower() not in (b"content-length", b"content-encoding", b"vary")]
    return kept + [(b"content-encoding", b"gzip"), (b"vary", b"accept-encoding"),
                   (b"content-length", str(len(packed)).encode())], packed


class AnswerCache:
    """ASGI middleware: a repeated GET of a read-only view answered from memory (see the module docstring)."""

    def __init__(self, app: ASGIApp, state: WebState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "GET" or not str(scope.get("path", "")).startswith(VIEWS):
            await self.app(scope, receive, send)
            return
        key = ("answer", scope["path"], scope.get("query_string", b""))
        found: bool = False
        hit: Any = None
        if _accepts_gzip(scope):
            found, hit = self.state.peek(("gzip", *key))
        if not found:
            found, hit = self.state.peek(key)
        if found:
            status, headers, body = hit
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []
        complete = [False]

        async def keep(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(bytes(message.get("body", b"")))
                complete[0] = not message.get("more_body", False)
            await send(message)

        await self.app(scope, receive, keep)
        if start.get("status") == 200 and complete[0]:
            headers, body = list(start.get("headers", [])), b"".join(chunks)
            self.state.put(key, (200, headers, body))
            if len(body) >= GZIP_MIN and not any(k.lower() == b"content-encoding" for k, _ in headers):
                zh, zb = await asyncio.to_thread(_gzipped, headers, body)
                self.state.put(("gzip", *key), (200, zh, zb))
