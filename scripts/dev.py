#!/usr/bin/env python3.11
"""The project's two commands, on a machine with only Python 3.11:

    python3.11 scripts/dev.py run [--port N]   # set up, then serve the app on http://127.0.0.1:8000
    python3.11 scripts/dev.py test             # set up, then run the whole test suite (extra args go to pytest)

Setting up means: a virtual environment in .venv, the packages from pyproject.toml (again only when
that file changed), the database migrated, and (for run) the demo data. `run` also starts the PayPal
emulator and runs the periodic commands production runs from cron (consultations_housekeeping every
minute, free_sessions_evaluate daily). Ctrl-C, or SIGINT/SIGTERM/SIGHUP sent to this script alone,
stops everything it started.
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".installed-from"


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def ensure_environment() -> None:
    if sys.version_info[:2] != (3, 11):
        sys.exit(f"InterKanect needs Python 3.11; this is {sys.version.split()[0]}. Run it with python3.11.")
    if not PYTHON.exists():
        say("Creating the virtual environment in .venv")
        venv.create(VENV, with_pip=True)
    pyproject = (ROOT / "pyproject.toml").read_bytes()
    digest = hashlib.sha256(pyproject).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == digest:
        return
    project = tomllib.loads(pyproject.decode())["project"]
    requirements = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    say(f"Installing {len(requirements)} packages from pyproject.toml (first run: a minute or two)")
    subprocess.run([PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([PYTHON, "-m", "pip", "install", "--quiet", *requirements], check=True)
    STAMP.write_text(digest)


def manage(*args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, check=True)


class Stop(Exception):
    """A stop signal arrived (Ctrl-C, or SIGINT/SIGTERM/SIGHUP sent to this script alone)."""


def _raise_stop(signum, frame) -> None:
    raise Stop(signal.Signals(signum).name)


def port_in_use(port: int) -> bool:
    """Whether something already listens on 127.0.0.1:port (a leftover server, another project)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the servers themselves bind: a socket in TIME_WAIT from a run just stopped is no obstacle.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


class Children:
    """The processes `run` starts, each in its own process group, so stopping one stops what it started too
    (runserver's autoreloader runs the server in a child process of its own)."""

    def __init__(self) -> None:
        self.running: list[subprocess.Popen] = []

    def start(self, *args: str, **kwargs) -> subprocess.Popen:
        proc = subprocess.Popen([PYTHON, "manage.py", *args], cwd=ROOT, start_new_session=True, **kwargs)
        self.running.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.running:
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for proc in self.running:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            # Also what the group's leader left behind (the autoreloader's server child).
            _signal_group(proc, signal.SIGKILL)
            proc.wait()
        self.running.clear()


def _signal_group(proc: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(proc.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


# name -> every how many seconds; production runs the same commands from cron (README).
PERIODIC = {
    "consultations_housekeeping": 60,
    "free_sessions_evaluate": 24 * 60 * 60,
}


def run(argv: list[str]) -> int:
    port = 8000
    if argv[:1] == ["--port"] and len(argv) == 2 and argv[1].isdigit():
        port = int(argv[1])
    elif argv:
        print(__doc__)
        return 2
    emulator_port = int(os.environ.get("PAYPAL_EMULATOR_PORT", "8025"))
    # Refuse at once, before minutes of setting up, rather than hang on "Address already in use" later.
    for needed, what in [(port, "the web server"), (emulator_port, "the PayPal emulator (PAYPAL_EMULATOR_PORT)")]:
        if port_in_use(needed):
            print(
                f"Port {needed} on 127.0.0.1 is in use, and {what} needs it. Is another `dev.py run` still going? "
                f"Stop it, or choose another port (`dev.py run --port N`; PAYPAL_EMULATOR_PORT for the emulator).",
                file=sys.stderr,
                flush=True,
            )
            return 1
    os.environ.setdefault("SITE_URL", f"http://127.0.0.1:{port}")
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_stop)
    children = Children()
    try:
        ensure_environment()
        say("Migrating the database")
        manage("migrate", "--no-input", "-v", "0")
        say("Loading the demo data")
        manage("seed_demo")
        say(f"Starting InterKanect on http://127.0.0.1:{port}/  (Ctrl-C stops it)")
        print(f"    Open http://127.0.0.1:{port}/ and log in with a demo login above.", flush=True)
        print("    E-mails (account activation and so on) are printed in this terminal.", flush=True)
        # The PayPal emulator (payouts/paypal/emulator/), so checkout and "Connect PayPal" work offline.
        say("Starting the PayPal emulator (its own port; no money moves)")
        children.start("paypal_emulator")
        server = children.start("runserver", f"127.0.0.1:{port}")
        say("Running consultations_housekeeping every minute and free_sessions_evaluate daily, as cron would")
        return _serve(children, server)
    except Stop as stop:
        say(f"Stopping ({stop})")
        return 0
    except KeyboardInterrupt:  # a signal that came before our handlers were in place
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        children.stop_all()


def _serve(children: Children, server: subprocess.Popen) -> int:
    next_due = {name: 0.0 for name in PERIODIC}
    periodic: dict[str, subprocess.Popen] = {}
    reported: set[str] = set()
    while True:
        if server.poll() is not None:
            return server.returncode
        now = time.monotonic()
        for name, proc in list(periodic.items()):
            if proc.poll() is not None:
                output = proc.stdout.read().strip() if proc.stdout else ""
                children.running.remove(proc)
                del periodic[name]
                if proc.returncode:
                    say(f"{name} failed (exit {proc.returncode}); see above")
                elif output and (name not in reported or any(digit in output for digit in "123456789")):
                    # The first run, and then only runs that did something: not "0, 0, 0" every minute.
                    reported.add(name)
                    say(f"{name}: {output}")
        for name, every in PERIODIC.items():
            if name not in periodic and now >= next_due[name]:
                next_due[name] = now + every
                periodic[name] = children.start(name, stdout=subprocess.PIPE, text=True)
        time.sleep(0.5)


def test(pytest_args: list[str]) -> int:
    ensure_environment()
    say("Running the test suite")
    return subprocess.call([PYTHON, "-m", "pytest", *pytest_args], cwd=ROOT)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "test"}:
        print(__doc__)
        return 2
    if argv[0] == "run":
        return run(argv[1:])
    return test(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
