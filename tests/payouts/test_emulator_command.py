"""`manage.py paypal_emulator` serves the emulator in development and refuses production; deploy checks."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "k" * 20 + "-Qx7!vR2#pL9@zT4$wN8^mB3&cF6*hJ1(dG5)sK0",
    "DJANGO_ALLOWED_HOSTS": "interkanect.example",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def clean_env(**env: str) -> dict:
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL", "PAYPAL_"))
    }
    return {**base, **env}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean_env(**env), capture_output=True, text=True
    )


def test_the_emulator_refuses_to_start_under_production_settings():
    result = manage("paypal_emulator", **PRODUCTION)
    assert result.returncode != 0 and "never runs in production" in result.stderr


def test_production_without_paypal_credentials_is_a_deploy_warning():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode != 0 and "payouts.W001" in result.stderr


def test_the_command_serves_the_emulator_in_development():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "manage.py", "paypal_emulator", "--port", str(port)],
        cwd=ROOT,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_emulator/health", timeout=1) as response:
                    assert json.loads(response.read()) == {"ok": True}
                    break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, process.stdout.read().decode()
                time.sleep(0.2)
        page = urllib.request.urlopen(
            f"http://127.0.0.1:{port}/webapps/auth/protocol/openidconnect/v1/authorize?client_id=emulator-client-id"
            "&response_type=code&redirect_uri=http://127.0.0.1:1/cb&scope=openid&state=s",
            timeout=5,
        )
        assert b"Log in with PayPal" in page.read()
    finally:
        process.terminate()
        process.wait(timeout=10)
