"""Static files before Django: the responses WhiteNoise and SecurityMiddleware gave through Django, at a
quarter of the server's CPU (benchmarks/static_files.py); whatever Django must decide still goes to Django."""

from __future__ import annotations

import gzip

import pytest
from asgiref.testing import ApplicationCommunicator
from django.core.asgi import get_asgi_application

from interkanect.static_files import StaticFilesFirst

SCRIPT = b"export const answer = 42;\n" * 200


class StandInForDjango:
    """The app behind: answers 404 and remembers what reached it."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    async def __call__(self, scope, receive, send) -> None:
        self.paths.append(scope["path"])
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@pytest.fixture
def static_root(settings, tmp_path):
    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "room.js").write_bytes(SCRIPT)
    (tmp_path / "js" / "room.js.gz").write_bytes(gzip.compress(SCRIPT))
    settings.STATIC_ROOT = tmp_path
    settings.WHITENOISE_AUTOREFRESH = False  # as in production: an index made at start
    settings.SECURE_SSL_REDIRECT = False
    return tmp_path


@pytest.fixture
def django():
    return StandInForDjango()


@pytest.fixture
def app(static_root, django):
    yield StaticFilesFirst(django)
    assert django.paths == [], "these requests were for the static files alone"


async def fetch(app, path: str, headers=(), method: str = "GET", scheme: str = "http") -> dict:
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": method,
        "scheme": scheme,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    communicator = ApplicationCommunicator(app, scope)
    await communicator.send_input({"type": "http.request", "body": b""})
    start = await communicator.receive_output(timeout=5)
    body, more = b"", True
    while more:  # Django streams a file in several messages
        message = await communicator.receive_output(timeout=5)
        body, more = body + message.get("body", b""), message.get("more_body", False)
    await communicator.wait()
    headers = {name.decode().lower(): value.decode() for name, value in start["headers"]}
    return {"status": start["status"], "headers": headers, "body": body}


async def test_a_static_file_comes_with_its_type_cache_headers_and_the_security_headers(app):
    response = await fetch(app, "/static/js/room.js")
    assert response["status"] == 200 and response["body"] == SCRIPT
    headers = response["headers"]
    assert headers["content-type"].startswith("text/javascript")
    assert headers["x-content-type-options"] == "nosniff"  # what SecurityMiddleware gave static files too
    assert headers["referrer-policy"] == "same-origin"
    assert "etag" in headers and "cache-control" in headers
    assert "strict-transport-security" not in headers  # plain http


async def test_compressed_variants_head_not_modified_and_ranges_are_answered_as_whitenoise_does(app):
    zipped = await fetch(app, "/static/js/room.js", [(b"accept-encoding", b"gzip")])
    assert zipped["headers"]["content-encoding"] == "gzip" and gzip.decompress(zipped["body"]) == SCRIPT
    head = await fetch(app, "/static/js/room.js", method="HEAD")
    assert head["status"] == 200 and head["body"] == b"" and head["headers"]["content-length"] == str(len(SCRIPT))
    etag = zipped["headers"]["etag"].encode()
    assert (await fetch(app, "/static/js/room.js", [(b"if-none-match", etag)]))["status"] == 304
    part = await fetch(app, "/static/js/room.js", [(b"range", b"bytes=0-5")])
    assert part["status"] == 206 and part["body"] == SCRIPT[:6]
    # A repeated header is joined, as Django joins it: two ranges are not "the last one".
    twice = await fetch(app, "/static/js/room.js", [(b"range", b"bytes=0-5"), (b"range", b"bytes=10-15")])
    assert twice["status"] == 200 and twice["body"] == SCRIPT
    assert (await fetch(app, "/static/js/room.js", method="POST"))["status"] == 405


async def test_a_secure_request_gets_hsts_whether_tls_ends_here_or_at_the_proxy(app, django, settings):
    settings.SECURE_HSTS_SECONDS = 3600
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    proxied = StaticFilesFirst(django)  # the headers are worked out at start
    for response in (
        await fetch(proxied, "/static/js/room.js", scheme="https"),
        await fetch(proxied, "/static/js/room.js", [(b"x-forwarded-proto", b"https")]),
    ):
        assert response["status"] == 200 and response["headers"]["strict-transport-security"].startswith("max-age=3600")


@pytest.mark.django_db
async def test_what_django_must_decide_goes_to_django(static_root, settings):
    app = StaticFilesFirst(get_asgi_application())
    missing = await fetch(app, "/static/js/missing.js")
    assert missing["status"] == 404 and "content-security-policy" in missing["headers"]  # Django's 404 page
    settings.SECURE_SSL_REDIRECT = True
    insecure = await fetch(StaticFilesFirst(get_asgi_application()), "/static/js/room.js")
    assert insecure["status"] == 301 and insecure["headers"]["location"] == "https://testserver/static/js/room.js"


async def test_a_file_gone_since_start_is_left_to_django(static_root, django):
    app = StaticFilesFirst(django)
    for name in ("room.js", "room.js.gz"):
        (static_root / "js" / name).unlink()
    assert (await fetch(app, "/static/js/room.js"))["status"] == 404 and django.paths == ["/static/js/room.js"]


async def test_in_debug_a_file_added_after_start_is_served(static_root, django, settings):
    settings.WHITENOISE_AUTOREFRESH = True  # DEBUG: WhiteNoise looks on disk at each request
    app = StaticFilesFirst(django)
    (static_root / "js" / "new.js").write_bytes(b"export {};\n")
    response = await fetch(app, "/static/js/new.js")
    assert response["status"] == 200 and response["body"] == b"export {};\n" and django.paths == []
