"""Static files answered on daphne's event loop, before Django's middleware.

Through Django, each static file was a request like any page: a thread of its own for the sync middleware
(WhiteNoise is sync-only, so Django runs it and SecurityMiddleware in asgiref's per-request thread), hops
between it and the event loop, and Django's request and response objects. About 1.9 ms of server CPU per
file; the room page loads a dozen. Here the same WhiteNoise index answers them (the same files,
compressed variants, cache headers, ETags, 304s and ranges) for about 0.5 ms: benchmarks/static_files.py.
Files are opened and read in the event loop's default executor.

What SecurityMiddleware did for a static file it does here too: its headers (nosniff, Referrer-Policy,
Cross-Origin-Opener-Policy, and HSTS on a secure request), worked out once; a request it would redirect to
https goes to Django, which does. So does anything unusual: a file gone since the index was made, a file
over 1 MiB (read whole here, streamed by Django).
"""

from __future__ import annotations

import asyncio

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.security import SecurityMiddleware
from whitenoise.middleware import WhiteNoiseMiddleware

LARGEST_FILE_BYTES = 1 << 20


class _ScopeRequest(HttpRequest):
    """Enough of a request for Django's own answer to "is it secure?" (SECURE_PROXY_SSL_HEADER included)."""

    def __init__(self, scheme: str, meta: dict[str, str]) -> None:
        super().__init__()
        self.META = meta
        self._scope_scheme = scheme

    def _get_scheme(self) -> str:
        return self._scope_scheme


def _security_headers(*, secure: bool) -> list[tuple[bytes, bytes]]:
    """What SecurityMiddleware adds to a response, for a secure request or not."""
    request = _ScopeRequest("https" if secure else "http", {})
    response = SecurityMiddleware(lambda request: HttpResponse()).process_response(request, HttpResponse())
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
        self.security_headers = {secure: _security_headers(secure=secure) for secure in (False, True)}

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefix):
            if self.whitenoise.autorefresh:  # DEBUG: the finders look on disk, off the event loop
                static_file = await asyncio.to_thread(self.whitenoise.find_file, scope["path"])
            else:
                static_file = self.whitenoise.files.get(scope["path"])
            if static_file is not None and await self.serve(static_file, scope, send):
                return
        await self.app(scope, receive, send)

    async def serve(self, static_file, scope, send) -> bool:
        """Answer with the file; False (nothing sent) to leave the request to Django."""
        # WhiteNoise reads request headers the WSGI way (HTTP_IF_NONE_MATCH, HTTP_RANGE, ...); a repeated
        # header is joined with commas, as Django does.
        meta: dict[str, str] = {}
        for name, value in scope["headers"]:
            key = "HTTP_" + name.decode("latin-1").upper().replace("-", "_")
            meta[key] = f"{meta[key]},{value.decode('latin-1')}" if key in meta else value.decode("latin-1")
        secure = _ScopeRequest(scope.get("scheme", "http"), meta).is_secure()
        if settings.SECURE_SSL_REDIRECT and not secure:
            return False  # Django redirects it to https
        try:
            answer = await asyncio.to_thread(_respond, static_file, scope["method"], meta)
        except OSError:  # gone from disk since the index was made: Django answers (and logs)
            return False
        if answer is None:
            return False
        status, headers, body = answer
        headers += self.security_headers[secure]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return True


def _respond(static_file, method: str, meta: dict) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None:
    response = static_file.get_response(method, meta)  # opens the file (or its .gz/.br variant)
    headers = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in response.headers]
    body = b""
    if response.file is not None:
        with response.file:
            if int(dict(response.headers).get("Content-Length", 0)) > LARGEST_FILE_BYTES:
                return None
            body = response.file.read()
    return int(response.status), headers, body
