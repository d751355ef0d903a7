"""Fixtures for the whole suite."""

import os

FAST_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"
# A fast hasher for the passwords tests create; the server process of the browser tests reads it from the
# environment. Production keeps Django's default.
os.environ.setdefault("DJANGO_PASSWORD_HASHERS", FAST_HASHER)

import pytest  # noqa: E402
from django.test import override_settings  # noqa: E402


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hasher():
    # pytest-django loads the settings before this file, so this process needs it set here too: with the
    # default PBKDF2 (hundreds of thousands of rounds per password) hashing was most of the unit tests' time.
    from django.conf import settings

    with override_settings(PASSWORD_HASHERS=[FAST_HASHER, *settings.PASSWORD_HASHERS]):
        yield


def _is_browser_test(item) -> bool:
    return "/e2e/" in str(item.fspath)


def _needs_database_file(item) -> bool:
    # A live server process shares the file; threads of a concurrent test wait on its locks (the shared-cache
    # in-memory database refuses at once with "database table is locked" instead).
    return _is_browser_test(item) or item.get_closest_marker("concurrent") is not None


@pytest.fixture(scope="session")
def django_db_modify_db_settings(request, django_db_modify_db_settings_parallel_suffix):
    """SQLite in memory unless this session runs tests that need the test database as a file."""
    from django.db import connections

    test_settings = connections["default"].settings_dict
    if test_settings["ENGINE"].endswith("sqlite3") and not any(map(_needs_database_file, request.session.items)):
        test_settings["TEST"]["NAME"] = None  # Django's shared-cache in-memory test database


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup):
    """pytest-django's, and before it drops the test database: the thread that ran the async tests' database
    calls (asgiref's one thread-sensitive thread) gives its connection back, or PostgreSQL refuses to drop a
    database still in use."""
    yield
    from asgiref.sync import SyncToAsync
    from django.db import connections

    SyncToAsync.single_thread_executor.submit(connections.close_all).result()


@pytest.fixture(autouse=True)
def _locmem_email(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture(autouse=True)
def _fresh_cache():
    # allauth's rate limits count in the cache; one test's attempts must not throttle the next.
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(scope="session")
def paypal_emulator_server():
    """The project's PayPal emulator on a free port of 127.0.0.1, for the whole session."""
    from payouts.paypal.emulator import PayPalEmulator

    emulator = PayPalEmulator(hang_seconds=10).serve()
    yield emulator
    emulator.stop()


@pytest.fixture
def paypal_emulator(paypal_emulator_server, settings):
    """The emulator, emptied, with this process's PayPal settings pointing at it (short timeout, no backoff)."""
    from payouts.paypal.emulator import EMULATOR_CLIENT_ID, EMULATOR_CLIENT_SECRET

    paypal_emulator_server.reset()
    settings.PAYPAL_API_BASE_URL = settings.PAYPAL_WEB_BASE_URL = paypal_emulator_server.url
    settings.PAYPAL_CLIENT_ID, settings.PAYPAL_CLIENT_SECRET = EMULATOR_CLIENT_ID, EMULATOR_CLIENT_SECRET
    settings.PAYPAL_TIMEOUT_SECONDS = 1.0
    settings.PAYPAL_RETRY_BACKOFF_SECONDS = 0
    return paypal_emulator_server


def pytest_collection_modifyitems(config, items):
    # Browser tests last: Playwright's sync API keeps an event loop running in the main thread for the
    # rest of the session, after which async tests (Channels consumers) can no longer run.
    items.sort(key=_is_browser_test)
