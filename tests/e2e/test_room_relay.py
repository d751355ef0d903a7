"""A call forced through TURN: coturn (Debian's package) on loopback with the server's short-lived credentials."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time

import pytest
from playwright.sync_api import expect

from signaling.turn import turn_credential
from tests.e2e.conftest import _free_port
from tests.e2e.room_servers import PageOpener, daphne_on_test_db
from tests.e2e.test_room import FRAMES_JS, enter, expect_state
from tests.factories import make_ready_consultation

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = secrets.token_hex(16)

# Gathers candidates for a throwaway connection that may only use the given TURN server; reports
# how many relay candidates it got and the errors the TURN server answered.
GATHER_JS = """async (server) => {
  const pc = new RTCPeerConnection({ iceServers: [server], iceTransportPolicy: "relay" });
  const relays = [];
  const errors = [];
  pc.addEventListener("icecandidate", (e) => { if (e.candidate && e.candidate.type === "relay") relays.push(1); });
  pc.addEventListener("icecandidateerror", (e) => errors.push(e.errorCode));
  pc.createDataChannel("probe");
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((resolve) => {
    if (pc.iceGatheringState === "complete") resolve();
    pc.addEventListener("icegatheringstatechange", () => pc.iceGatheringState === "complete" && resolve());
    setTimeout(resolve, 8000);
  });
  pc.close();
  return { relays: relays.length, errors };
}"""


def _wait_for_udp_listener(port: int, process: subprocess.Popen, work, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            logs = "".join(path.read_text(errors="ignore")[-3000:] for path in work.glob("*.log"))
            raise RuntimeError(f"turnserver stopped:\n{logs}")
        if _listening(port):
            return
        time.sleep(0.1)
    raise RuntimeError("turnserver did not start listening")


def _listening(port: int) -> bool:
    with open("/proc/net/udp") as table:
        return any(line.split()[1].upper() == f"0100007F:{port:04X}" for line in table.readlines()[1:])


@pytest.fixture(scope="module")
def coturn(tmp_path_factory):
    if not shutil.which("turnserver"):
        message = "coturn's turnserver is missing: apt-get install -y coturn."
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    work = tmp_path_factory.mktemp("coturn")
    port = _free_port()
    relay_low = 40000 + secrets.randbelow(20000)
    log_path = work / "turn.log"
    process = subprocess.Popen(
        [
            "turnserver",
            "-n",  # no configuration file: only what is here
            "--listening-ip=127.0.0.1",
            "--relay-ip=127.0.0.1",
            f"--listening-port={port}",
            f"--min-port={relay_low}",
            f"--max-port={relay_low + 100}",
            "--use-auth-secret",
            f"--static-auth-secret={SECRET}",
            "--realm=interkanect.test",
            "--fingerprint",
            "--no-tls",
            "--no-dtls",
            "--no-cli",
            "--allow-loopback-peers",  # both browsers are on this machine
            f"--db={work / 'turndb'}",
            f"--pidfile={work / 'turn.pid'}",
            f"--log-file={log_path}",
            "--simple-log",
            "--no-stdout-log",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for_udp_listener(port, process, work)
        yield f"turn:127.0.0.1:{port}?transport=udp"
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def relay_app(coturn, django_db_setup, tmp_path_factory):
    """A second daphne on the test database whose settings send every call through the coturn above."""
    with daphne_on_test_db(
        tmp_path_factory.mktemp("relay-server"),
        ICE_TURN_URLS=coturn,
        ICE_TURN_SECRET=SECRET,
        ICE_TURN_CREDENTIAL_TTL_SECONDS="600",
        ICE_TRANSPORT_POLICY="relay",
    ) as url:
        yield url


@pytest.fixture
def relay_page(browser, relay_app):
    opener = PageOpener(browser, relay_app)
    yield opener
    opener.close_and_check()


def test_relay_only_call_connects_through_turn_with_the_servers_credentials(relay_page):
    consultation = make_ready_consultation()
    sme_page, client_page = relay_page(user=consultation.sme), relay_page(user=consultation.client)
    enter(sme_page, consultation)
    enter(client_page, consultation)
    for page in (sme_page, client_page):
        expect_state(page, "connected", timeout=30_000)
    for page in (sme_page, client_page):
        badge = page.locator("#route-badge")
        expect(badge).to_have_attribute("data-route", "relay")
        expect(badge).to_have_text("Relayed through a TURN server (still encrypted)")
        assert page.evaluate(FRAMES_JS, "#remote-video") > 0
    assert sme_page.locator("#safety-code").text_content() == client_page.locator("#safety-code").text_content()


def test_turn_refuses_an_expired_credential_and_accepts_a_fresh_one(relay_page, coturn):
    page = relay_page()
    page.goto("/")
    expired_user, expired_password = turn_credential(secret=SECRET, ttl_seconds=-60)
    refused = page.evaluate(GATHER_JS, {"urls": coturn, "username": expired_user, "credential": expired_password})
    assert refused["relays"] == 0 and 401 in refused["errors"]
    fresh_user, fresh_password = turn_credential(secret=SECRET, ttl_seconds=600)
    accepted = page.evaluate(GATHER_JS, {"urls": coturn, "username": fresh_user, "credential": fresh_password})
    assert accepted["relays"] >= 1
