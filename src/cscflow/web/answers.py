"""Answers sent again from memory: an ASGI middleware, inside the security checks, that keeps each ``200`` answer
of the read-only API views by path, query and the workspace's write generation, and sends it again to the next
identical request without routing it, validating it again or handing it to a worker thread.

Only GETs of views that depend on nothing but the workspace and the app's map are kept (:data:`VIEWS`); the
linkage review and the practices pages, which the app can write to, always go through. Answers share the
app's cache and its byte budget (:class:`cscflow.web.app.WebState`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from cscflow.web.app import WebState

#: Path prefixes of the read-only views whose answers are kept.
VIEWS = ("/api/map", "/api/events", "/api/counts", "/api/stations/", "/api/children/", "/api/flow/",
         "/api/stats", "/api/tracks", "/api/stays")


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
            self.state.put(key, (200, list(start.get("headers", [])), b"".join(chunks)))
