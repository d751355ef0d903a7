"""Static files answered on daphne's event loop, before Django's middleware.

Through Django, each static file was a request like any page: a thread of its own for the sync middleware
(WhiteNoise is sync-only, so Django runs it and SecurityMiddleware in asgiref's per-request thread), hops
between it and the event loop, and Django's request and response objects. About 1.9 ms of server CPU per
file; the room page loads a dozen. Here the same WhiteNoise index answers them (the same files,
compressed variants, cache headers, ETags, 304s and ranges) for about 0.5 ms: benchmarks/static_files.py.
Files are opened and read in the event loop's default executor.

What SecurityMiddleware added to a static response is added here too (its headers for an insecure request:
nosniff, Referrer-Policy, Cross-Origin-Opener-Policy); HSTS is left to the pages, which carry it.
"""

from __future__ import annotations

import asyncio

from django.http import HttpRequest, HttpResponse
from django.middleware.security import SecurityMiddleware
from whitenoise.middleware import WhiteNoiseMiddleware


def _security_headers() -> list[tuple[bytes, bytes]]:
    response = SecurityMiddleware(lambda request: HttpResponse()).process_response(HttpRequest(), HttpResponse())
    return [
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in response.headers.items()
        if name.lower() != "content-type"
    ]


class StaticFilesFirst:
    """ASGI: a request under STATIC_URL for a file WhiteNoise knows is answered here; any other goes to `app`."""

    def __init__(self, app) -> None:
        self.app = app
        self.whitenoise = WhiteNoiseMiddleware()  # its index of STATIC_ROOT (in DEBUG, a lookup via the finders)
        self.prefix = self.whitenoise.static_prefix
        self.security_headers = _security_headers()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefix):
            if self.whitenoise.autorefresh:  # DEBUG: the finders look on disk, off the event loop
                static_file = await asyncio.to_thread(self.whitenoise.find_file, scope["path"])
            else:
                static_file = self.whitenoise.files.get(scope["path"])
            if static_file is not None:
                await self.serve(static_file, scope, send)
                return
        await self.app(scope, receive, send)

    async def serve(self, static_file, scope, send) -> None:
        # WhiteNoise reads request headers the WSGI way (HTTP_IF_NONE_MATCH, HTTP_RANGE, ...).
        environ = {
            "HTTP_" + name.decode("latin-1").upper().replace("-", "_"): value.decode("latin-1")
            for name, value in scope["headers"]
        }
        status, headers, body = await asyncio.to_thread(_respond, static_file, scope["method"], environ)
        await send({"type": "http.response.start", "status": status, "headers": headers + self.security_headers})
        await send({"type": "http.response.body", "body": body})


def _respond(static_file, method: str, environ: dict) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    response = static_file.get_response(method, environ)  # opens the file (or its .gz/.br variant)
    body = b""
    if response.file is not None:
        with response.file:
            body = response.file.read()
    headers = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in response.headers]
    return int(response.status), headers, body
