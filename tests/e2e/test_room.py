"""The room in two real browsers (fake camera and microphone) on the live daphne server."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.factories import make_client, make_ready_consultation

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
CONNECT_TIMEOUT = 20_000

# Resolves with the video's width once it has shown three new frames, or 0 if it shows none in 5 s.
FRAMES_JS = """async (selector) => {
  const video = document.querySelector(selector);
  return await new Promise((resolve) => {
    let frames = 0;
    const next = () => {
      frames += 1;
      if (frames >= 3) resolve(video.videoWidth); else video.requestVideoFrameCallback(next);
    };
    video.requestVideoFrameCallback(next);
    setTimeout(() => resolve(0), 5000);
  });
}"""
# How many pixels of the whiteboard canvas are drawn on.
INK_JS = """() => {
  const canvas = document.getElementById('whiteboard');
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let inked = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) inked += 1;
  return inked;
}"""


def enter(page, consultation) -> None:
    page.goto(f"/rooms/{consultation.token}/")


def expect_state(page, state: str, timeout: int = CONNECT_TIMEOUT) -> None:
    expect(page.locator("body")).to_have_attribute("data-call-state", state, timeout=timeout)


def draw(page, points: list[tuple[float, float]]) -> None:
    """A stroke through points given as fractions of the whiteboard's width and height."""
    page.locator("#whiteboard").scroll_into_view_if_needed()
    box = page.locator("#whiteboard").bounding_box()
    x, y = points[0]
    page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"], steps=5)
    page.mouse.up()


def ink(page) -> int:
    return page.evaluate(INK_JS)


def wait_for_ink(page, at_least: int, timeout: float = 10) -> int:
    page.wait_for_function(f"() => ({INK_JS})() >= {at_least}", timeout=timeout * 1000)
    return ink(page)


@pytest.fixture
def call(new_page):
    """The SME on a desktop browser and the client on a phone-sized one, both in the room and connected."""
    consultation = make_ready_consultation(minutes=30, title="Kubernetes review")
    sme_page = new_page(user=consultation.sme)
    client_page = new_page(user=consultation.client, viewport=PHONE)
    enter(sme_page, consultation)
    expect_state(sme_page, "waiting")
    enter(client_page, consultation)
    expect_state(sme_page, "connected")
    expect_state(client_page, "connected")
    return consultation, sme_page, client_page


def test_two_people_connect_see_each_other_draw_chat_and_compare_safety_codes(call):
    consultation, sme_page, client_page = call
    expect(client_page.get_by_role("heading", level=1)).to_have_text("Kubernetes review")

    # Each sees the other's video frames.
    assert sme_page.evaluate(FRAMES_JS, "#remote-video") > 0
    assert client_page.evaluate(FRAMES_JS, "#remote-video") > 0

    # A stroke on one whiteboard appears on the other.
    assert ink(client_page) == 0
    draw(sme_page, [(0.1, 0.1), (0.5, 0.4), (0.8, 0.2)])
    drawn = wait_for_ink(sme_page, 1)
    assert wait_for_ink(client_page, drawn) == drawn

    # A chat message arrives, in both directions.
    client_page.get_by_role("textbox", name="Message").fill("Can you show the pod spec?")
    client_page.get_by_role("textbox", name="Message").press("Enter")
    expect(sme_page.locator("#chat-log")).to_contain_text("Can you show the pod spec?")
    expect(client_page.locator("#chat-log")).to_contain_text("You")
    sme_page.get_by_role("textbox", name="Message").fill("Sure, one moment.")
    sme_page.get_by_role("button", name="Send").click()
    expect(client_page.locator("#chat-log")).to_contain_text("Sure, one moment.")

    # Both read the same safety code.
    code_pattern = re.compile(r"^\d{4} \d{4} \d{4}$")
    expect(sme_page.locator("#safety-code")).to_have_text(code_pattern)
    expect(client_page.locator("#safety-code")).to_have_text(code_pattern)
    assert sme_page.locator("#safety-code").text_content() == client_page.locator("#safety-code").text_content()

    # The media goes direct, not through a relay.
    for page in (sme_page, client_page):
        badge = page.locator("#route-badge")
        expect(badge).to_have_attribute("data-route", "direct")
        expect(badge).to_have_text("Direct connection")
        assert badge.get_attribute("data-local-candidate") != "relay"
        assert badge.get_attribute("data-remote-candidate") != "relay"

    # The timer runs on the agreed time from the moment both connected.
    for page in (sme_page, client_page):
        expect(page.locator("#session-timer")).to_have_text(re.compile(r"^(30:00|29:[0-5]\d) left$"))


def test_reloading_one_side_reconnects_and_keeps_the_drawing(call):
    consultation, sme_page, client_page = call
    draw(sme_page, [(0.1, 0.5), (0.3, 0.7)])
    one = wait_for_ink(sme_page, 1)
    assert wait_for_ink(client_page, one) == one
    draw(client_page, [(0.6, 0.2), (0.9, 0.6)])
    both = wait_for_ink(client_page, one + 1)
    assert wait_for_ink(sme_page, both) == both
    client_page.get_by_role("textbox", name="Message").fill("before the reload")
    client_page.get_by_role("textbox", name="Message").press("Enter")
    expect(sme_page.locator("#chat-log")).to_contain_text("before the reload")

    client_page.reload()
    expect_state(client_page, "connected")
    expect_state(sme_page, "connected")
    # The reloaded page gets the whole drawing (its own old strokes too) and the chat back.
    total = ink(sme_page)
    assert wait_for_ink(client_page, total) == total
    expect(client_page.locator("#chat-log")).to_contain_text("before the reload")
    assert client_page.evaluate(FRAMES_JS, "#remote-video") > 0
    assert sme_page.evaluate(FRAMES_JS, "#remote-video") > 0
    # A stroke after the reconnection still arrives.
    draw(client_page, [(0.2, 0.9), (0.5, 0.95)])
    client_after = wait_for_ink(client_page, total + 1)
    assert wait_for_ink(sme_page, client_after) == client_after


def test_a_stranger_is_refused_with_the_reason(new_page):
    consultation = make_ready_consultation()
    page = new_page(user=make_client())
    response = page.goto(f"/rooms/{consultation.token}/")
    assert response.status == 403
    expect(page.locator("#room-refusal")).to_have_text("This consultation belongs to someone else.")
    expect(page.locator("#whiteboard")).to_have_count(0)
