#!/usr/bin/env python3.11
"""The project's two commands, on a machine with only Python 3.11:

    python3.11 scripts/dev.py run     # set up, then serve the app on http://127.0.0.1:8000
    python3.11 scripts/dev.py test    # set up, then run the whole test suite (extra args go to pytest)

Setting up means: a virtual environment in .venv, the packages from pyproject.toml (again only when
that file changed), the database migrated, and (for run) the demo data.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
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


def run() -> int:
    ensure_environment()
    say("Migrating the database")
    manage("migrate", "--no-input", "-v", "0")
    say("Loading the demo data")
    manage("seed_demo")
    say("Starting InterKanect on http://127.0.0.1:8000/  (Ctrl-C stops it)")
    print("    Open http://127.0.0.1:8000/ and log in with a demo login above.", flush=True)
    print("    E-mails (account activation and so on) are printed in this terminal.", flush=True)
    # The PayPal emulator (payouts/paypal/emulator/), so checkout and "Connect PayPal" work offline.
    say("Starting the PayPal emulator (its own port; no money moves)")
    emulator = subprocess.Popen([PYTHON, "manage.py", "paypal_emulator"], cwd=ROOT)
    try:
        return subprocess.call([PYTHON, "manage.py", "runserver", "127.0.0.1:8000"], cwd=ROOT)
    except KeyboardInterrupt:
        return 0
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)


def test(pytest_args: list[str]) -> int:
    ensure_environment()
    say("Running the test suite")
    return subprocess.call([PYTHON, "-m", "pytest", *pytest_args], cwd=ROOT)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "test"}:
        print(__doc__)
        return 2
    if argv[0] == "run":
        return run()
    return test(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
