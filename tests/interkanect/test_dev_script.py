"""`scripts/dev.py run`: stopping it stops everything it started; a port in use is refused at once."""

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def start_dev_run(tmp_path: Path, port: int, emulator_port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'dev.sqlite3'}",
        "PAYPAL_EMULATOR_PORT": str(emulator_port),
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    env.pop("REDIS_URL", None)
    # Its own session, so the test can clean up whatever a broken dev.py leaves behind (see the finalizer).
    return subprocess.Popen(
        [sys.executable, "scripts/dev.py", "run", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


class OutputReader:
    """Collects a child's output in a thread, so a test can wait for a line without blocking on the pipe."""

    def __init__(self, proc: subprocess.Popen):
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self.thread.start()

    def _read(self, proc: subprocess.Popen) -> None:
        for line in proc.stdout:
            self.lines.append(line)

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def wait_for(self, pattern: str, proc: subprocess.Popen, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while not re.search(pattern, self.text):
            assert proc.poll() is None, self.text
            assert time.monotonic() < deadline, f"never printed {pattern!r}:\n{self.text}"
            time.sleep(0.2)


def wait_for_page(port: int, proc: subprocess.Popen, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, "dev.py run ended before serving"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError("dev.py run never served the home page")


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="dev.py needs Python 3.11")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_dev_py_alone_stops_the_server_and_the_emulator(tmp_path, signum):
    port, emulator_port = free_port(), free_port()
    proc = start_dev_run(tmp_path, port, emulator_port)
    reader = OutputReader(proc)
    try:
        wait_for_page(port, proc)
        assert listening(emulator_port)
        if signum == signal.SIGTERM:  # (once is enough) the periodic commands run while it serves, as cron runs them
            reader.wait_for(r"consultations_housekeeping: expired \d+, completed \d+, reminded \d+", proc)
            reader.wait_for(r"free_sessions_evaluate: evaluated", proc)
        os.kill(proc.pid, signum)  # to dev.py alone, not its group: as a service manager or a script does
        proc.wait(timeout=30)
        reader.thread.join(timeout=5)
        assert "Stopping" in reader.text
        deadline = time.monotonic() + 5
        while (listening(port) or listening(emulator_port)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not listening(port), "the web server outlived dev.py"
        assert not listening(emulator_port), "the PayPal emulator outlived dev.py"
    finally:
        for group in {proc.pid}:
            try:
                os.killpg(group, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait()


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="dev.py needs Python 3.11")
def test_a_port_in_use_is_a_clear_error_naming_it_at_once(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = start_dev_run(tmp_path, port, free_port())
        output, _ = proc.communicate(timeout=20)
    assert proc.returncode == 1
    assert f"Port {port} on 127.0.0.1 is in use" in output
    assert "Migrating" not in output  # refused before setting anything up
