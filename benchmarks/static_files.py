"""Server CPU per static file: the room page's scripts and style sheets, as the app serves them.

Three daphne processes in the production configuration (DJANGO_DEBUG=0, collected, hashed files), each
asked for the room page's files (the manifest's hashed names of css/ and js/room/) over one keep-alive
connection, gzip accepted:
  - bare: a raw ASGI app answering a fixed script (benchmarks/bare_relay.py's bare.js): the floor;
  - app: interkanect.asgi:application, static files answered before Django (interkanect/static_files.py);
  - through Django: interkanect.asgi:django_asgi_app, static files served by WhiteNoise's middleware
    (as the app did before).
Prints server CPU per request (from /proc) and requests per second.

    python benchmarks/static_files.py [--requests 3000]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.call_setup import start_daphne  # noqa: E402
from benchmarks.relay_load import cpu_seconds  # noqa: E402

ROOM_FILES = ("css/", "js/room/")  # what the room page loads, besides its favicon
TARGETS = {
    "bare": "benchmarks.bare_relay:application",
    "app": "interkanect.asgi:application",
    "through Django": "interkanect.asgi:django_asgi_app",
}


def measure(url: str, pid: int, paths: list[str], requests: int) -> tuple[float, float]:
    """(server CPU µs per request, requests per second) for `requests` requests over one connection."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)

    def fetch(path: str) -> None:
        connection.request("GET", path, headers={"Accept-Encoding": "gzip"})
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"{path}: HTTP {response.status}")

    for path in paths:  # warm-up: imports, first requests
        fetch(path)
    cpu, started = cpu_seconds([pid]), time.perf_counter()
    for n in range(requests):
        fetch(paths[n % len(paths)])
    elapsed, used = time.perf_counter() - started, cpu_seconds([pid]) - cpu
    connection.close()
    return used / requests * 1e6, requests / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="static-files-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "interkanect.settings",
        "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{work / 'bench.sqlite3'}"),
        "DJANGO_SECRET_KEY": "static-files-benchmark-" + secrets.token_hex(32),
        "DJANGO_DEBUG": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_STATIC_ROOT": str(work / "static"),
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SECURE_COOKIES": "0",
    }
    collect = [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"]
    subprocess.run(collect, cwd=ROOT, env=env, check=True)
    manifest = json.loads((work / "static" / "staticfiles.json").read_text())["paths"]
    room_files = [f"/static/{hashed}" for name, hashed in sorted(manifest.items()) if name.startswith(ROOM_FILES)]
    print(f"{args.requests} requests each, cycling through the {len(room_files)} files of {' and '.join(ROOM_FILES)}\n")
    results = {}
    for name, app in TARGETS.items():
        process, url = start_daphne(app, env)
        try:
            paths = ["/bare.js"] if name == "bare" else room_files
            results[name] = measure(url, process.pid, paths, args.requests)
        finally:
            process.terminate()
            process.wait(timeout=10)
    floor = results["bare"][0]
    for name, (cpu, rate) in results.items():
        print(f"{name:<15} server CPU {cpu:7.0f} µs/request ({cpu / floor:4.1f}× bare)   {rate:7.0f} requests/s")


if __name__ == "__main__":
    main()
