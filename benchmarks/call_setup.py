"""Call setup time in real browsers: the second person opens the link -> first remote video frame on both sides.

Prints the median and worst of several runs for the room (daphne, Channels, auth, validation, the
room's page) and for a minimal relay page (benchmarks/bare_relay.py: one module, getUserMedia, a
WebSocket that forwards frames) measured the same way on the same machine, and their ratio.

The clock starts at the second page's navigation (performance.timeOrigin), so it counts what a person
waits through: the page and its modules, camera and microphone, the socket's admission, the offer and
answer, ICE and the first decoded frame. (It used to start at each page's "welcome" frame, after all of
the page's own start-up: both sides then measured only WebRTC's part and the ratio was about 1.)

Each page is opened from a page of another site (http://localhost:<port>/mail, the e-mail with the link;
both relays are on 127.0.0.1), as a person follows the link: Chromium then starts a new renderer process
for either page. Opened from about:blank instead, only the room paid for one (its Cross-Origin-Opener-Policy
header, which the bare page does not send, forces the swap): about 60 ms more for the room alone.

Both servers run in the production configuration (DJANGO_DEBUG=0: collected, hashed static files served
from memory by WhiteNoise, no debug checks), as people get the room.

    python benchmarks/call_setup.py [--runs 10]

Uses a throwaway SQLite database (or DATABASE_URL/REDIS_URL if set) and /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Moments on a page, in ms since the epoch: its navigation, the server's welcome, the first remote frame.
MEASURE_JS = """() => {
  const mark = (name) => {
    const entry = performance.getEntriesByName(name)[0];
    return entry ? performance.timeOrigin + entry.startTime : null;
  };
  return { opened: performance.timeOrigin, welcome: mark("room:welcome"), frame: mark("room:first-remote-frame") };
}"""


def start_daphne(app: str, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    from tests.e2e.conftest import _free_port

    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-v", "0", "-b", "127.0.0.1", "-p", str(port), app],  # as in production
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/", timeout=2).close()
            return process, url
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise SystemExit(f"{app} did not start") from None
            time.sleep(0.2)


def one_call(browser, url: str, path: str, mail_url: str, users=(None, None)) -> tuple[float, float]:
    """(setup ms, of which before the second page's welcome) for one call; pages opened from mail_url."""
    from tests.e2e.conftest import log_in

    contexts = []
    try:
        pages = []
        for user in users:
            context = browser.new_context(base_url=url)
            contexts.append(context)
            if user is not None:
                log_in(context, user, url)
            pages.append(context.new_page())
        first, second = pages
        for page in pages:
            page.goto(mail_url)
        first.goto(path)
        first.wait_for_function("() => performance.getEntriesByName('room:welcome').length > 0", timeout=20_000)
        second.goto(path)
        for page in pages:
            page.wait_for_function(
                "() => performance.getEntriesByName('room:first-remote-frame').length > 0", timeout=30_000
            )
        first_marks, second_marks = (page.evaluate(MEASURE_JS) for page in pages)
        frame = max(first_marks["frame"], second_marks["frame"])
        return frame - second_marks["opened"], second_marks["welcome"] - second_marks["opened"]
    finally:
        for context in contexts:
            context.close()


def summary(name: str, times: list[tuple[float, float]]) -> str:
    total = [t for t, _ in times]
    welcome = statistics.median(w for _, w in times)
    return (
        f"{name:<11} median {statistics.median(total):7.0f} ms   worst {max(total):7.0f} ms   "
        f"(median {welcome:.0f} ms of it before the welcome frame; {len(times)} runs)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="call-setup-"))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{work / 'bench.sqlite3'}")
    os.environ.setdefault("DJANGO_PASSWORD_HASHERS", "django.contrib.auth.hashers.MD5PasswordHasher")
    os.environ["DJANGO_EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ["DJANGO_SETTINGS_MODULE"] = "interkanect.settings"
    # One key for the server and this process, which writes the sessions the browsers log in with.
    os.environ["DJANGO_SECRET_KEY"] = "call-setup-benchmark-" + secrets.token_hex(32)
    server_env = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_STATIC_ROOT": str(work / "static"),
        # Plain http on 127.0.0.1, without the proxy that terminates TLS in production.
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SECURE_COOKIES": "0",
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=server_env, check=True
    )
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop here

    import django

    django.setup()
    from django.core.management import call_command
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
    from tests.factories import make_ready_consultation

    call_command("migrate", verbosity=0)
    room_server, room_url = start_daphne("interkanect.asgi:application", server_env)
    bare_server, bare_url = start_daphne("benchmarks.bare_relay:application", server_env)
    room_times, bare_times = [], []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            # Another site than 127.0.0.1, where both relays are.
            mail_url = bare_url.replace("127.0.0.1", "localhost") + "/mail"
            one_call(browser, bare_url, "/?room=warm-up", mail_url)  # Chromium's first call pays for loading codecs
            for run in range(args.runs):
                # Alternate, so a slow moment of the machine does not land on one side only.
                bare_times.append(one_call(browser, bare_url, f"/?room={run}", mail_url))
                consultation = make_ready_consultation()
                users = (consultation.sme, consultation.client)
                room_times.append(one_call(browser, room_url, f"/rooms/{consultation.token}/", mail_url, users))
                print(
                    f"run {run + 1:>2}: room {room_times[-1][0]:6.0f} ms   bare relay {bare_times[-1][0]:6.0f} ms",
                    flush=True,
                )
            browser.close()
    finally:
        for process in (room_server, bare_server):
            process.terminate()
            process.wait(timeout=10)
    print(summary("room", room_times))
    print(summary("bare relay", bare_times))
    ratio = statistics.median(t for t, _ in room_times) / statistics.median(t for t, _ in bare_times)
    print(f"ratio of medians: {ratio:.2f} (target: at most 1.2)")


if __name__ == "__main__":
    main()
