"""Fixtures for the whole suite."""

import os

# Before Django loads settings: a fast hasher for the passwords tests create (the server process of the
# browser tests inherits it). Production keeps Django's default.
os.environ.setdefault("DJANGO_PASSWORD_HASHERS", "django.contrib.auth.hashers.MD5PasswordHasher")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _locmem_email(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture(autouse=True)
def _fresh_cache():
    # allauth's rate limits count in the cache; one test's attempts must not throttle the next.
    from django.core.cache import cache

    cache.clear()
    yield


def pytest_collection_modifyitems(config, items):
    # Browser tests last: Playwright's sync API keeps an event loop running in the main thread for the
    # rest of the session, after which async tests (Channels consumers) can no longer run.
    items.sort(key=lambda item: "/e2e/" in str(item.fspath))
