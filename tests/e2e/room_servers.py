"""Extra daphne processes for the room's browser tests: with other settings (TURN), or a second one beside live_app."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from tests.e2e.conftest import PageWatch, _database_url, _free_port, daphne_process, log_in


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
    with daphne_process(env=env, log_path=log_dir / f"daphne-{port}.log", port=port) as url:
        yield url


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
