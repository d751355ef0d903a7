"""Extra daphne processes for the room's browser tests: with other settings (TURN), or a second one beside live_app."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from tests.e2e.conftest import ROOT, PageWatch, _database_url, _free_port, log_in


@contextmanager
def daphne_on_test_db(log_dir: Path, port: int | None = None, **extra_env: str):
    """daphne serving the app on the test database, with extra environment variables; yields its URL."""
    from django.db import connection

    port = port or _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(connection.settings_dict),
        "DJANGO_DEBUG": "1",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        **extra_env,
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    log_path = log_dir / f"daphne-{port}.log"
    with log_path.open("a") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "interkanect.asgi:application"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                urllib.request.urlopen(url + "/", timeout=2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"daphne did not start:\n{log_path.read_text()[-4000:]}") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


class PageOpener:
    """Like the new_page fixture, for a server of one's own: logged-in pages, checked for leaks at the end."""

    def __init__(self, browser, url: str) -> None:
        self.browser, self.url = browser, url
        self.contexts, self.watches = [], []

    def __call__(self, *, user=None, viewport: dict | None = None):
        context = self.browser.new_context(base_url=self.url, viewport=viewport or {"width": 1280, "height": 800})
        context.set_default_timeout(15_000)
        if user is not None:
            log_in(context, user, self.url)
        page = context.new_page()
        watch = PageWatch(self.url)
        watch.attach(page)
        self.contexts.append(context)
        self.watches.append(watch)
        return page

    def close_and_check(self, expected: str | None = None) -> None:
        """expected: a console error the test causes on purpose (Chromium logs each refused reconnection)."""
        for context in self.contexts:
            context.close()
        for watch in self.watches:
            assert not watch.foreign_requests, f"The page loaded something from another site: {watch.foreign_requests}"
            problems = [
                p for p in watch.problems if "Failed to load resource" not in p and not (expected and expected in p)
            ]
            assert not problems, f"The page reported problems: {problems}"
