"""The room across trouble: a dropped network connection, and two server processes sharing one Redis."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import _free_port
from tests.e2e.room_servers import PageOpener, daphne_on_test_db
from tests.e2e.test_room import FRAMES_JS, PHONE, draw, enter, expect_state, wait_for_ink
from tests.factories import make_ready_consultation

pytestmark = pytest.mark.django_db(transaction=True)


def test_after_the_server_restarts_both_reconnect_and_keep_the_drawing_and_chat(browser, tmp_path):
    consultation = make_ready_consultation()
    port = _free_port()
    server = daphne_on_test_db(tmp_path, port=port)
    url = server.__enter__()
    opener = PageOpener(browser, url)
    try:
        sme_page, client_page = opener(user=consultation.sme), opener(user=consultation.client, viewport=PHONE)
        enter(sme_page, consultation)
        enter(client_page, consultation)
        expect_state(sme_page, "connected")
        expect_state(client_page, "connected")
        draw(sme_page, [(0.2, 0.2), (0.7, 0.3)])
        before = wait_for_ink(client_page, 1)

        server.__exit__(None, None, None)  # the server goes away (a crash, a deploy)...
        expect_state(client_page, "reconnecting")
        expect_state(sme_page, "reconnecting")
        server = daphne_on_test_db(tmp_path, port=port)  # ...and comes back on the same address
        server.__enter__()

        expect_state(client_page, "connected", timeout=30_000)
        expect_state(sme_page, "connected", timeout=30_000)
        draw(sme_page, [(0.1, 0.8), (0.9, 0.9)])
        total = wait_for_ink(sme_page, before + 1)
        assert wait_for_ink(client_page, total) == total
        sme_page.get_by_role("textbox", name="Message").fill("still here")
        sme_page.get_by_role("textbox", name="Message").press("Enter")
        expect(client_page.locator("#chat-log")).to_contain_text("still here")
        assert client_page.evaluate(FRAMES_JS, "#remote-video") > 0
        assert sme_page.evaluate(FRAMES_JS, "#remote-video") > 0
    finally:
        opener.close_and_check(expected="net::ERR_CONNECTION_REFUSED")  # the reconnection attempts while it was down
        server.__exit__(None, None, None)


@pytest.fixture
def second_server(browser, live_app, tmp_path):
    if not os.environ.get("REDIS_URL"):
        pytest.skip("REDIS_URL is not set: two server processes share a room only through channels-redis.")
    with daphne_on_test_db(tmp_path) as url:
        opener = PageOpener(browser, url)
        yield opener
        opener.close_and_check()


def test_two_server_processes_serve_one_room_through_redis(new_page, second_server):
    consultation = make_ready_consultation()
    sme_page = new_page(user=consultation.sme)  # on live_app's daphne
    client_page = second_server(user=consultation.client)  # on another daphne process
    enter(sme_page, consultation)
    enter(client_page, consultation)
    expect_state(sme_page, "connected")
    expect_state(client_page, "connected")
    assert sme_page.evaluate(FRAMES_JS, "#remote-video") > 0
    assert client_page.evaluate(FRAMES_JS, "#remote-video") > 0
    assert sme_page.locator("#safety-code").text_content() == client_page.locator("#safety-code").text_content()
