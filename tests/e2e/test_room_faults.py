"""The room through real faults: Redis restarting mid-call, a server process killed mid-call, a reconnect loop.

Each test runs its own processes (redis-server, daphne) so it can break them; the times a recovery took are
printed (run with -s to see them), never asserted.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from contextlib import contextmanager

import pytest
from playwright.sync_api import expect

from sessions_app.models import Consultation
from tests.e2e.conftest import _free_port
from tests.e2e.room_servers import PageOpener, daphne_on_test_db
from tests.e2e.test_room import FRAMES_JS, draw, enter, expect_state, wait_for_ink
from tests.factories import make_ready_consultation

pytestmark = pytest.mark.django_db(transaction=True)

RECOVERY_TIMEOUT = 45_000
WELCOMES_JS = "() => performance.getEntriesByName('room:welcome').length"
WELCOMED_JS = "() => performance.getEntriesByName('room:welcome').length > 0"
# Chromium logs each reconnection attempt that meets a closed port or a dropped connection.
EXPECTED_CONSOLE = "WebSocket connection to"


def _require_redis_server() -> None:
    if shutil.which("redis-server"):
        return
    message = "redis-server is missing: apt-get install -y redis-server."
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


class RedisServer:
    """A redis-server of the test's own on a free port, without persistence (a restart loses everything)."""

    def __init__(self, work) -> None:
        self.port = _free_port()
        self.work = work
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.work,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@contextmanager
def redis_server(work):
    _require_redis_server()
    server = RedisServer(work)
    server.start()
    try:
        yield server
    finally:
        server.stop()


class FailoverProxy:
    """A TCP load balancer in miniature: each new connection goes to the first backend that accepts it."""

    def __init__(self, backends: list[int]) -> None:
        self.backends = backends
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        for port in self.backends:
            try:
                upstream = socket.create_connection(("127.0.0.1", port), timeout=2)
            except OSError:
                continue
            upstream.settimeout(None)
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, target), daemon=True).start()
            return
        client.close()

    @staticmethod
    def _pipe(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self.listener.close()


def _servers_env(redis_url: str) -> dict[str, str]:
    prefix = f"faults-{uuid.uuid4().hex[:8]}"
    return {"REDIS_URL": redis_url, "CHANNELS_PREFIX": prefix, "CACHE_PREFIX": prefix}


def _connected_call(sme_page, client_page, consultation) -> None:
    enter(sme_page, consultation)
    enter(client_page, consultation)
    expect_state(sme_page, "connected")
    expect_state(client_page, "connected")


def _wait_until_both_connected_again(pages, started: float) -> float:
    for page in pages:
        expect_state(page, "connected", timeout=RECOVERY_TIMEOUT)
    return time.monotonic() - started


def test_the_call_survives_a_redis_restart_without_a_reload(browser, tmp_path):
    """Two server processes share a Redis that goes away for a few seconds and comes back empty."""
    consultation = make_ready_consultation(minutes=30)
    with redis_server(tmp_path) as redis:
        env = _servers_env(redis.url)
        with daphne_on_test_db(tmp_path, **env) as first, daphne_on_test_db(tmp_path, **env) as second:
            sme_opener, client_opener = PageOpener(browser, first), PageOpener(browser, second)
            try:
                sme_page, client_page = sme_opener(user=consultation.sme), client_opener(user=consultation.client)
                _connected_call(sme_page, client_page, consultation)
                draw(sme_page, [(0.2, 0.2), (0.7, 0.3)])
                ink = wait_for_ink(client_page, 1)
                live = Consultation.objects.get(pk=consultation.pk)
                assert live.state == Consultation.State.LIVE

                redis.stop()
                for page in (sme_page, client_page):  # once the layer's retries run out, the sockets drop
                    expect_state(page, "reconnecting", timeout=RECOVERY_TIMEOUT)
                started = time.monotonic()
                redis.start()
                took = _wait_until_both_connected_again([sme_page, client_page], started)
                print(f"\nRedis restart: both members connected again {took:.1f} s after Redis came back")
                # Re-signalled over a new socket (a new welcome), in the same page: no reload.
                assert sme_page.evaluate(WELCOMES_JS) >= 2 and client_page.evaluate(WELCOMES_JS) >= 2

                # The call goes on: video both ways, the drawing kept, the timer not restarted.
                assert sme_page.evaluate(FRAMES_JS, "#remote-video") > 0
                assert client_page.evaluate(FRAMES_JS, "#remote-video") > 0
                assert wait_for_ink(client_page, ink) >= ink
                draw(client_page, [(0.1, 0.8), (0.9, 0.9)])
                assert wait_for_ink(sme_page, ink + 1) > ink
                after = Consultation.objects.get(pk=consultation.pk)
                assert after.state == Consultation.State.LIVE and after.live_at == live.live_at
            finally:
                sme_opener.close_and_check(expected=EXPECTED_CONSOLE)
                client_opener.close_and_check(expected=EXPECTED_CONSOLE)


def test_a_member_whose_server_process_is_killed_reconnects_to_the_other_and_the_call_resumes(browser, tmp_path):
    """kill -9 of the SME's daphne mid-call: the page reconnects through the load balancer to the other process."""
    consultation = make_ready_consultation(minutes=30)
    with redis_server(tmp_path) as redis:
        env = _servers_env(redis.url)
        with daphne_on_test_db(tmp_path, **env) as doomed, daphne_on_test_db(tmp_path, **env) as survivor:
            proxy = FailoverProxy([int(doomed.rsplit(":", 1)[1]), int(survivor.rsplit(":", 1)[1])])
            sme_opener, client_opener = PageOpener(browser, proxy.url), PageOpener(browser, survivor)
            try:
                sme_page, client_page = sme_opener(user=consultation.sme), client_opener(user=consultation.client)
                _connected_call(sme_page, client_page, consultation)
                live = Consultation.objects.get(pk=consultation.pk)
                doomed_channel = live.sme_channel

                started = time.monotonic()
                doomed.process.send_signal(signal.SIGKILL)  # no goodbye: its consumers never run their cleanup
                doomed.process.wait(timeout=10)
                expect_state(sme_page, "reconnecting", timeout=RECOVERY_TIMEOUT)
                took = _wait_until_both_connected_again([sme_page, client_page], started)
                print(f"\nServer killed: both members connected again {took:.1f} s after kill -9")
                assert sme_page.evaluate(WELCOMES_JS) >= 2  # the same page, a new socket on the other server

                assert sme_page.evaluate(FRAMES_JS, "#remote-video") > 0
                assert client_page.evaluate(FRAMES_JS, "#remote-video") > 0
                sme_page.get_by_role("textbox", name="Message").fill("back on the other server")
                sme_page.get_by_role("textbox", name="Message").press("Enter")
                expect(client_page.locator("#chat-log")).to_contain_text("back on the other server")
                after = Consultation.objects.get(pk=consultation.pk)
                assert after.state == Consultation.State.LIVE and after.live_at == live.live_at
                assert after.sme_channel not in ("", doomed_channel)  # the dead process's channel is gone
            finally:
                sme_opener.close_and_check(expected=EXPECTED_CONSOLE)
                client_opener.close_and_check(expected=EXPECTED_CONSOLE)
                proxy.close()


def test_a_reconnect_loop_is_refused_with_words_on_the_page(browser, tmp_path):
    consultation = make_ready_consultation(minutes=30)
    with daphne_on_test_db(tmp_path, SIGNALING_JOINS_PER_MEMBER="2") as url:
        opener = PageOpener(browser, url)
        try:
            page = opener(user=consultation.sme)
            enter(page, consultation)
            page.wait_for_function(WELCOMED_JS)
            page.reload()
            page.wait_for_function(WELCOMED_JS)
            page.reload()  # the third join within a minute
            expect(page.locator("#call-status")).to_contain_text("Too many reconnections", timeout=15_000)
            expect(page.locator("#room-alert")).to_contain_text("Too many reconnections")
        finally:
            opener.close_and_check()
