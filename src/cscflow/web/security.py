"""Security of the local web app: access token, Host checks and response headers.

The app binds 127.0.0.1 by default. Bound to any other address it must have a
token: every request then carries it (``?token=`` once, which sets a cookie, or an
``Authorization: Bearer`` / ``X-Cscflow-Token`` header) or gets 401. The Host
header is checked so that a web page elsewhere cannot reach the app through DNS
rebinding. Every response carries a strict Content-Security-Policy: scripts,
styles, fonts and connections only from the app itself.

>>> is_loopback("127.0.0.1"), is_loopback("0.0.0.0"), is_loopback("localhost")
(True, False, True)
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterable

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cscflow.errors import CscflowError

#: No inline scripts or styles, nothing from another origin. Workers (the map's density count) only from the app's
#: own files: no blob: or data: workers.
CSP = (
    "default-src 'self'; script-src 'self'; worker-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}
TOKEN_COOKIE = "cscflow_token"
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def is_loopback(host: str) -> bool:
    """True when ``host`` is a loopback name or address."""
    host = host.strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Refuse to serve on a non-loopback address without a token.

    >>> check_bind("127.0.0.1", None)
    >>> try:
    ...     check_bind("0.0.0.0", None)
    ... except CscflowError as err:
    ...     print(err.message)
    refusing to serve on 0.0.0.0 without a token
    """
    if not is_loopback(host) and not token:
        raise CscflowError(
            f"refusing to serve on {host} without a token",
            hint="pass --token SECRET (others then open http://HOST:PORT/?token=SECRET), or serve on 127.0.0.1",
        )


def _host_name(host_header: str) -> str:
    host_header = host_header.strip().lower()
    if host_header.startswith("["):
        return host_header[: host_header.find("]") + 1] if "]" in host_header else host_header
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


class SecurityMiddleware:
    """ASGI middleware: Host check, token check (401) and security headers on every response."""

    def __init__(self, app: ASGIApp, token: str | None = None, allowed_hosts: Iterable[str] | None = None) -> None:
        self.app = app
        self.token = token or None
        hosts = {h.lower() for h in (allowed_hosts or ())}
        # Without a token only loopback names are accepted (DNS-rebinding guard).
        self.allow_any_host = bool(self.token) and "*" in hosts
        self.allowed_hosts = (LOOPBACK_NAMES | hosts) - {"*"}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        host = _host_name(headers.get("host", ""))
        if not self.allow_any_host and host not in self.allowed_hosts:
            await self._reply(scope, receive, send, 400, f"host {host!r} not allowed")
            return
        set_cookie = False
        if self.token:
            given = self._token_of(scope, headers)
            if given is None or not hmac.compare_digest(given.encode(), self.token.encode()):
                await self._reply(scope, receive, send, 401, "a valid token is required (open the page with ?token=...)")
                return
            set_cookie = _cookie(headers, TOKEN_COOKIE) is None

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = list(message.get("headers", []))
                present = {k.decode().lower() for k, _ in raw}
                for k, v in SECURITY_HEADERS.items():
                    if k not in present:
                        raw.append((k.encode(), v.encode()))
                if set_cookie:
                    cookie = f"{TOKEN_COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict"
                    raw.append((b"set-cookie", cookie.encode()))
                message["headers"] = raw
            await send(message)

        await self.app(scope, receive, send_with_headers)

    @staticmethod
    def _token_of(scope: Scope, headers: Headers) -> str | None:
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
        if headers.get("x-cscflow-token"):
            return headers["x-cscflow-token"]
        cookie = _cookie(headers, TOKEN_COOKIE)
        if cookie is not None:
            return cookie
        from urllib.parse import parse_qs

        values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
        return values[0] if values else None

    @staticmethod
    async def _reply(scope: Scope, receive: Receive, send: Send, status: int, text: str) -> None:
        response = PlainTextResponse(text, status_code=status, headers=SECURITY_HEADERS)
        await response(scope, receive, send)


def _cookie(headers: Headers, name: str) -> str | None:
    for part in headers.get("cookie", "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None
