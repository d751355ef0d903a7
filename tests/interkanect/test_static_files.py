"""Static files before Django: the responses WhiteNoise gave through Django, at a quarter of the server's CPU
(benchmarks/static_files.py)."""

from __future__ import annotations

import gzip

import pytest
from channels.testing import HttpCommunicator
from django.core.asgi import get_asgi_application

from interkanect.static_files import StaticFilesFirst

SCRIPT = b"export const answer = 42;\n" * 200


@pytest.fixture
def app(settings, tmp_path):
    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "room.js").write_bytes(SCRIPT)
    (tmp_path / "js" / "room.js.gz").write_bytes(gzip.compress(SCRIPT))
    settings.STATIC_ROOT = tmp_path
    settings.WHITENOISE_AUTOREFRESH = False  # as in production: an index made at start
    return StaticFilesFirst(get_asgi_application())


async def fetch(app, path: str, headers: list[tuple[bytes, bytes]] | None = None, method: str = "GET") -> dict:
    headers = [(b"host", b"testserver"), *(headers or [])]
    response = await HttpCommunicator(app, method, path, headers=headers).get_response(timeout=5)
    response["headers"] = {name.decode().lower(): value.decode() for name, value in response["headers"]}
    return response


async def test_a_static_file_comes_with_its_type_cache_headers_and_the_security_headers(app):
    response = await fetch(app, "/static/js/room.js")
    assert response["status"] == 200 and response["body"] == SCRIPT
    headers = response["headers"]
    assert headers["content-type"].startswith("text/javascript")
    assert headers["x-content-type-options"] == "nosniff"  # what SecurityMiddleware gave static files too
    assert headers["referrer-policy"] == "same-origin"
    assert "etag" in headers and "cache-control" in headers


async def test_compressed_variants_not_modified_and_ranges_are_answered_as_whitenoise_does(app):
    zipped = await fetch(app, "/static/js/room.js", [(b"accept-encoding", b"gzip")])
    assert zipped["headers"]["content-encoding"] == "gzip" and gzip.decompress(zipped["body"]) == SCRIPT
    etag = zipped["headers"]["etag"].encode()
    assert (await fetch(app, "/static/js/room.js", [(b"if-none-match", etag)]))["status"] == 304
    part = await fetch(app, "/static/js/room.js", [(b"range", b"bytes=0-5")])
    assert part["status"] == 206 and part["body"] == SCRIPT[:6]
    assert (await fetch(app, "/static/js/room.js", method="POST"))["status"] == 405


async def test_anything_else_goes_to_django(app):
    missing = await fetch(app, "/static/js/missing.js")
    assert missing["status"] == 404 and "content-security-policy" in missing["headers"]  # Django's 404 page
