"""Configuration from the environment: embedded defaults, and a production setup that passes check --deploy."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "k" * 20 + "-Qx7!vR2#pL9@zT4$wN8^mB3&cF6*hJ1(dG5)sK0",
    "DJANGO_ALLOWED_HOSTS": "interkanect.example",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "PAYPAL_CLIENT_ID": "live-client-id",
    "PAYPAL_CLIENT_SECRET": "live-client-secret",
    "PAYPAL_MODE": "live",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**base, **env}, capture_output=True, text=True
    )


def test_production_settings_pass_check_deploy_without_a_warning():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_production_without_redis_warns_that_rate_limits_and_rooms_are_per_process():
    env = {k: v for k, v in PRODUCTION.items() if k != "REDIS_URL"}
    result = manage("check", "--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode != 0
    assert "interkanect.W001" in result.stderr and "interkanect.W002" in result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION.items() if k != "DJANGO_SECRET_KEY"}
    result = manage("check", **env)
    assert result.returncode != 0 and "Set DJANGO_SECRET_KEY" in result.stderr


def test_embedded_defaults_are_sqlite_and_the_in_memory_layer():
    code = (
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CHANNEL_LAYERS['default']['BACKEND'], s.DEBUG)"
    )
    result = manage("shell", "-v", "0", "-c", code)
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "interkanect.channel_layers.SweepingInMemoryChannelLayer",
        "True",
    ], result.stderr


@pytest.fixture(scope="module")
def collected(tmp_path_factory) -> dict[str, str]:
    """Production settings after `collectstatic`, as a deployment runs it."""
    env = {**PRODUCTION, "DJANGO_STATIC_ROOT": str(tmp_path_factory.mktemp("static"))}
    result = manage("collectstatic", "--no-input", "-v", "0", **env)
    assert result.returncode == 0, result.stderr
    return env


def test_production_serves_collected_static_files_through_whitenoise(collected):
    env = collected
    code = (
        "from django.test import Client;"
        "from django.templatetags.static import static;"
        "url = static('css/app.css');"
        "r = Client().get(url, secure=True, HTTP_HOST='interkanect.example');"
        "print(url, r.status_code, r['Cache-Control'])"
    )
    result = manage("shell", "-v", "0", "-c", code, **env)
    url, status, *cache = result.stdout.split()
    assert status == "200", result.stderr
    assert url != "/static/css/app.css"  # a hashed name, so browsers may cache it for a year
    assert "max-age=315360000" in " ".join(cache)


def test_production_pages_for_errors_say_what_to_do_next(collected):
    code = (
        "from django.test import Client;"
        "c = Client(raise_request_exception=False);"
        "r = c.get('/no-such-page/', secure=True, HTTP_HOST='interkanect.example');"
        "print(r.status_code, b'copied the whole link' in r.content)"
    )
    result = manage("shell", "-v", "0", "-c", code, **collected)
    assert result.stdout.split() == ["404", "True"], result.stderr
