"""The guard in front of /api/*: allowed origins (CORS), the API key, a per-client rate limit.

Usage::

    policy = OriginPolicy(settings.allowed_origins)
    app.add_middleware(ApiGuard, settings=settings, policy=policy)

The widget page's ``frame-ancestors`` comes from the same :class:`OriginPolicy`, so one
setting (``ASSISTANT_ALLOWED_ORIGINS``) decides who may call the API and who may frame the chat.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.settings import Settings

LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")
API_PREFIX = "/api/"
MAX_BODY_BYTES = 1 << 20  # 1 MiB: a question of 2,000 characters with a long history fits
# Where the chat page's Gradio app starts an answer (the browser's queue, Gradio's own API): the
# page stays open to whoever reaches it (no key), but these calls share /api/*'s rate limit.
CHAT_CALLS = ("/gradio_api/queue/join", "/gradio_api/call/", "/gradio_api/run/")


def _origin(value: str) -> str:
    """Normalise an origin (scheme://host[:port], lower case, no trailing slash)."""
    return value.strip().rstrip("/").lower()


class OriginPolicy:
    """Which web origins may call /api/* and frame /widget.

    Always: the server's own origin and http(s)://localhost or 127.0.0.1 on any port;
    plus every origin listed in ``ASSISTANT_ALLOWED_ORIGINS``.
    """

    def __init__(self, extra: Iterable[str] = ()) -> None:
        self.extra = [_origin(o) for o in extra if o.strip()]

    def allows(self, origin: str | None, own_host: str | None = None) -> bool:
        if not origin:
            return False
        origin = _origin(origin)
        if "*" in self.extra or origin in self.extra:
            return True
        # The server's own page: the origin's host and port are the Host header's, whatever the
        # scheme (a TLS-terminating proxy in front talks plain HTTP to this server).
        if own_host and urlsplit(origin).netloc == _origin(own_host):
            return True
        parts = urlsplit(origin)
        host = parts.hostname or ""
        if parts.scheme in ("http", "https") and (host in LOCAL_HOSTS or f"[{host}]" in LOCAL_HOSTS):
            return True
        return False

    def frame_ancestors(self) -> str:
        """The CSP ``frame-ancestors`` source list for /widget."""
        sources = ["'self'", "http://localhost:*", "http://127.0.0.1:*",
                   "https://localhost:*", "https://127.0.0.1:*"]
        sources += [o for o in self.extra if o not in sources]
        return "frame-ancestors " + " ".join(sources)


def _is_loopback(address: str) -> bool:
    """"localhost" or a loopback IP (127.0.0.0/8, ::1); not a name that merely starts with "127."."""
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def host_name(header: str) -> str:
    """The host name of a Host header, without port or IPv6 brackets, lower case."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:header.find("]")] if "]" in header else header[1:]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class HostPolicy:
    """Which Host headers the server answers: a page on another domain that its DNS points at
    this machine (DNS rebinding) must not reach a server meant for localhost.

    Listed names (``*.corp`` matches subdomains) and the localhost names always; with none listed,
    only the localhost names when the server is bound to a loopback address, else any name (a
    server on the network cannot know which names point at it).
    """

    def __init__(self, allowed: Iterable[str] = (), bind_host: str | None = None) -> None:
        self.allowed = [h.strip().lower().strip("[]") for h in allowed if h.strip()]  # "[fe80::1]" as sent
        self.open = not self.allowed and (bind_host is None or not _is_loopback(bind_host))

    def allows(self, header: str | None) -> bool:
        if self.open or "*" in self.allowed:
            return True
        name = host_name(header or "")
        if _is_loopback(name):
            return True
        return any(name == h or (h.startswith("*.") and name.endswith(h[1:])) for h in self.allowed)


class HostGuard:
    """ASGI middleware: 400 for a request whose Host header :class:`HostPolicy` refuses."""

    def __init__(self, app: ASGIApp, policy: HostPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and not self.policy.allows(Headers(scope=scope).get("host")):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            await _send_json(send, 400, {"error": "This host name is not served here (ASSISTANT_ALLOWED_HOSTS)."}, [])
            return
        await self.app(scope, receive, send)


class RateLimiter:
    """A sliding one-minute window per client key, in memory (one process)."""

    def __init__(self, per_minute: int, window: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.window = window
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> float:
        """Record a request; 0.0 when allowed, else the seconds until the next one is."""
        if self.per_minute <= 0:
            return 0.0
        now = self.clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.per_minute:
                return max(hits[0] + self.window - now, 0.001)
            hits.append(now)
            if len(self._hits) > 10_000:  # forget idle clients
                for k in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
                    del self._hits[k]
            return 0.0


class ConcurrencyLimit:
    """At most ``limit`` answers at once; a full server says 503 instead of queueing."""

    def __init__(self, limit: int) -> None:
        self._slots = threading.BoundedSemaphore(limit)

    def try_acquire(self) -> bool:
        return self._slots.acquire(blocking=False)

    def release(self) -> None:
        self._slots.release()


def _own_host(headers: Headers) -> str | None:
    """The Host header (host[:port]) the request was sent to."""
    return headers.get("host")


async def _send_json(send: Send, status: int, body: dict[str, Any],
                     headers: list[tuple[bytes, bytes]]) -> None:
    payload = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
        *headers]})
    await send({"type": "http.response.body", "body": payload})


class ApiGuard:
    """ASGI middleware for /api/*: CORS for allowed origins, bearer key, rate limit.

    The chat page's answer calls (``CHAT_CALLS``) get the rate limit only; everything else (the
    chat page itself, /widget, /healthz) passes through untouched.
    """

    def __init__(self, app: ASGIApp, settings: Settings, policy: OriginPolicy,
                 limiter: RateLimiter) -> None:
        self.app = app
        self.settings = settings
        self.policy = policy
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"].startswith(CHAT_CALLS):
            if await self._limited(scope, send, []):
                return
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http" or not scope["path"].startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        cors: list[tuple[bytes, bytes]] = []
        if origin and self.policy.allows(origin, _own_host(headers)):
            cors = [(b"access-control-allow-origin", origin.encode("latin-1")), (b"vary", b"Origin"),
                    (b"access-control-expose-headers", b"Retry-After")]  # a page's script reads when to retry
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(send, cors)
            return
        if origin and not cors:
            await _send_json(send, 403, {"error": f"Origin {origin} is not allowed to call this API."},
                             [(b"vary", b"Origin")])
            return
        if scope["method"] == "OPTIONS":  # not a preflight: what the API allows, not the chat app's 404
            await send({"type": "http.response.start", "status": 204,
                        "headers": [(b"allow", b"GET, POST, OPTIONS"), *cors]})
            await send({"type": "http.response.body", "body": b""})
            return
        if await self._limited(scope, send, cors):  # before the key: guessing keys is limited too
            return
        key = self.settings.api_key
        if key and not self._authorized(headers.get("authorization", ""), key):
            message = "Missing or wrong API key: send Authorization: Bearer <key>."
            await _send_json(send, 401, {"error": message}, [(b"www-authenticate", b"Bearer"), *cors])
            return
        length = headers.get("content-length", "")
        too_large = {"error": f"The request body is over {MAX_BODY_BYTES} bytes."}
        if length.isdigit() and int(length) > MAX_BODY_BYTES:
            await _send_json(send, 413, too_large, cors)
            return
        # A chunked body says no length: it is read here, up to the limit, and handed on whole.
        body = bytearray()
        more = scope["method"] in ("POST", "PUT", "PATCH")
        while more:
            chunk = await receive()
            if chunk["type"] == "http.disconnect":
                return
            body += chunk.get("body", b"")
            if len(body) > MAX_BODY_BYTES:
                await _send_json(send, 413, too_large, cors)
                return
            more = chunk.get("more_body", False)
        read = scope["method"] not in ("POST", "PUT", "PATCH")

        async def receive_body() -> Message:
            nonlocal read
            if read:
                return await receive()  # after the body: the disconnect a streaming answer watches for
            read = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start" and cors:
                message = {**message, "headers": [*message.get("headers", []), *cors]}
            await send(message)

        await self.app(scope, receive_body, send_with_cors)

    async def _limited(self, scope: Scope, send: Send, cors: list[tuple[bytes, bytes]]) -> bool:
        """True (and a 429 sent) when the client is over the rate limit."""
        client = scope.get("client")
        wait = self.limiter.check(client[0] if client else "unknown")
        if wait:
            retry = str(math.ceil(wait)).encode()
            await _send_json(send, 429, {"error": "Too many requests: slow down and retry later."},
                             [(b"retry-after", retry), *cors])
        return bool(wait)

    @staticmethod
    def _authorized(header: str, key: str) -> bool:
        scheme, _, token = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), key.encode())

    async def _preflight(self, send: Send, cors: list[tuple[bytes, bytes]]) -> None:
        if not cors:
            await _send_json(send, 403, {"error": "Origin not allowed."}, [(b"vary", b"Origin")])
            return
        await send({"type": "http.response.start", "status": 204, "headers": [
            *cors, (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
            (b"access-control-allow-headers", b"Authorization, Content-Type"),
            (b"access-control-max-age", b"600")]})
        await send({"type": "http.response.body", "body": b""})
