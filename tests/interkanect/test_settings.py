"""Configuration from the environment: embedded defaults, and a production setup that passes check --deploy."""

import os
import subprocess
import sys
from pathlib import Path

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
        "channels.layers.InMemoryChannelLayer",
        "True",
    ], result.stderr
