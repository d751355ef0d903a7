"""Real-browser fixtures: a live daphne server on the test database, and headless Chromium.

The server is a separate process (daphne, as in production) that sees the test database, so tests
use `transactional_db`: what a test creates is committed and visible to the server.
"""

from __future__ import annotations

import email
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

# Playwright's sync API drives an event loop in this thread; the ORM calls the tests make between
# browser steps are ordinary blocking calls, which is fine here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
# DESIGN.md "Real-browser tests": flags that make calls connect every time on loopback. No
# --disable-features of our own: Chromium keeps only the last one, dropping Playwright's.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--autoplay-policy=no-user-gesture-required",
]
ROOT = Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


def _require_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    message = f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium)."
    if os.environ.get("CI"):
        pytest.fail(message + " CI must run the browser tests.", pytrace=False)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url(settings_dict: dict) -> str:
    engine = settings_dict["ENGINE"]
    if engine.endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    user = settings_dict.get("USER") or ""
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{settings_dict['NAME']}"


class LiveServer:
    def __init__(self, url: str, mail_dir: Path, log_path: Path, env: dict[str, str]) -> None:
        self.url = url
        self.mail_dir = mail_dir
        self.log_path = log_path
        self.env = env

    def __str__(self) -> str:
        return self.url

    def messages(self, to: str | None = None) -> list[email.message.Message]:
        """Every e-mail the server sent so far (oldest first), optionally only those to one address."""
        found = []
        for path in sorted(self.mail_dir.glob("*.log"), key=lambda p: p.stat().st_mtime):
            for chunk in path.read_text().split("-" * 79):
                if chunk.strip():
                    message = email.message_from_string(chunk.strip())
                    if to is None or to in (message.get("To") or ""):
                        found.append(message)
        return found

    def link_in_last_mail(self, to: str, path_contains: str, timeout: float = 10) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in reversed(self.messages(to)):
                body = message.get_payload(decode=True) if not message.is_multipart() else None
                text = body.decode() if body else str(message)
                links = re.findall(r"https?://[^\s\"'<>]+", text)
                matching = [link for link in links if path_contains in link]
                if matching:
                    return matching[-1]
            time.sleep(0.1)
        raise AssertionError(f"No e-mail to {to} with a link containing {path_contains!r} arrived.")


@pytest.fixture(scope="session")
def live_app(django_db_setup, django_db_blocker, tmp_path_factory, paypal_emulator_server):
    """daphne serving the app (HTTP and WebSockets) against the test database (and the test PayPal emulator)."""
    from django.db import connection

    with django_db_blocker.unblock():
        db_url = _database_url(connection.settings_dict)
    port = _free_port()
    work = tmp_path_factory.mktemp("live-server")
    mail_dir = work / "mail"
    mail_dir.mkdir()
    log_path = work / "server.log"
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "DJANGO_DEBUG": "1",
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        # The session's PayPal emulator, not whatever may listen on the development port.
        "PAYPAL_API_BASE_URL": paypal_emulator_server.url,
        "PAYPAL_WEB_BASE_URL": paypal_emulator_server.url,
        # Links in e-mails sent without a request (consultations) must lead to this server, not the dev port.
        "SITE_URL": f"http://127.0.0.1:{port}",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    with daphne_process(env=env, log_path=log_path, port=port) as url:
        yield LiveServer(url, mail_dir, log_path, env)


@contextmanager
def daphne_process(*, env: dict[str, str], log_path: Path, port: int):
    """daphne serving the app with env, logging to log_path; yields its URL once it answers."""
    with log_path.open("a") as log:
        process = subprocess.Popen(
            # -v 0 as in production (README): no access log, which would hold addresses and room links.
            [
                sys.executable,
                "-m",
                "daphne",
                "-v",
                "0",
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "interkanect.asgi:application",
            ],
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


@pytest.fixture(scope="session")
def playwright_instance():
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance):
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


class PageWatch:
    """What a page did that a user would not want: requests to other sites, CSP violations, JS errors."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.foreign_requests: list[str] = []
        self.problems: list[str] = []

    def attach(self, page) -> None:
        page.on("request", self._on_request)
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

    def _on_request(self, request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in {"data", "blob", "about"}:
            return
        if f"{parts.scheme}://{parts.netloc}".replace("ws://", "http://") != self.origin:
            self.foreign_requests.append(request.url)

    def _on_console(self, message) -> None:
        if "Content Security Policy" in message.text or message.type == "error":
            self.problems.append(f"console {message.type}: {message.text}")


@pytest.fixture
def new_page(browser, live_app):
    """Open a fresh browser context (its own cookies) and page; checks nothing leaked at the end."""
    contexts, watches = [], []

    def open_page(
        *, user=None, viewport: dict | None = None, permissions: list[str] | None = None, javascript: bool = True
    ):
        """A page in a context of its own; logged in as user when one is given."""
        context = browser.new_context(
            base_url=live_app.url,
            viewport=viewport or {"width": 1280, "height": 800},
            permissions=permissions or [],
            java_script_enabled=javascript,
        )
        context.set_default_timeout(15_000)
        if user is not None:
            log_in(context, user, live_app.url)
        page = context.new_page()
        watch = PageWatch(live_app.url)
        watch.attach(page)
        contexts.append(context)
        watches.append(watch)
        page.watch = watch
        return page

    yield open_page
    for context in contexts:
        context.close()
    _wait_for_rooms_to_empty()
    for watch in watches:
        assert not watch.foreign_requests, f"The page loaded something from another site: {watch.foreign_requests}"
        expected = [p for p in watch.problems if "Failed to load resource" not in p]
        assert not expected, f"The page reported problems: {expected}"


def log_in(context, user, base_url: str) -> None:
    """Give a browser context a logged-in session for user, as the login page would (without its clicks)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": base_url}])


def _wait_for_rooms_to_empty(timeout: float = 5) -> None:
    """After the browsers close, the server still handles their WebSockets' goodbyes (row locks on the
    consultation). The test database is emptied right after the test; doing that while the server holds
    those locks deadlocks on PostgreSQL, so first wait (briefly) until every room is empty."""
    from django.db.models import Q

    from sessions_app.models import Consultation

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not Consultation.objects.filter(~Q(sme_channel="") | ~Q(client_channel="")).exists():
            return
        time.sleep(0.1)
