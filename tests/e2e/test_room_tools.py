"""Media controls and whiteboard extras in real browsers: camera off, mute, devices, screen share, pointer, PNG."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.test_room import FRAMES_JS, draw, wait_for_ink
from tests.e2e.test_room_controls import connect

pytestmark = pytest.mark.django_db(transaction=True)

# The brightest pixel of what the video element shows right now (0: black).
BRIGHTNESS_JS = """(selector) => {
  const video = document.querySelector(selector);
  const canvas = document.createElement("canvas");
  canvas.width = 64; canvas.height = 36;
  const context = canvas.getContext("2d");
  context.drawImage(video, 0, 0, 64, 36);
  const data = context.getImageData(0, 0, 64, 36).data;
  let brightest = 0;
  for (let i = 0; i < data.length; i += 4) brightest = Math.max(brightest, data[i], data[i + 1], data[i + 2]);
  return brightest;
}"""
OVERLAY_INK_JS = """() => {
  const canvas = document.getElementById("whiteboard-overlay");
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let inked = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) inked += 1;
  return inked;
}"""


def test_camera_off_sends_black_frames_and_mute_is_a_pressed_toggle(new_page):
    consultation, sme_page, client_page = connect(new_page)
    assert client_page.evaluate(FRAMES_JS, "#remote-video") > 0
    assert client_page.evaluate(BRIGHTNESS_JS, "#remote-video") > 60  # the fake camera's bright picture
    camera = sme_page.get_by_role("button", name="Camera off")
    camera.click()
    expect(camera).to_have_attribute("aria-pressed", "true")
    client_page.wait_for_function(f"() => ({BRIGHTNESS_JS})('#remote-video') < 20", timeout=10_000)
    camera.click()
    expect(camera).to_have_attribute("aria-pressed", "false")
    client_page.wait_for_function(f"() => ({BRIGHTNESS_JS})('#remote-video') > 60", timeout=10_000)

    microphone = sme_page.get_by_role("button", name="Mute microphone")
    microphone.click()
    expect(microphone).to_have_attribute("aria-pressed", "true")
    # The device lists name the devices in use and can be changed.
    sme_page.get_by_text("Camera and microphone", exact=True).click()
    expect(sme_page.get_by_label("Camera", exact=True)).to_be_enabled()
    assert sme_page.get_by_label("Camera", exact=True).locator("option").count() >= 1


def test_screen_share_replaces_the_camera_and_switches_back(new_page):
    consultation, sme_page, client_page = connect(new_page)
    share = sme_page.get_by_role("button", name="Share screen")
    share.click()
    expect(share).to_have_attribute("aria-pressed", "true")
    assert client_page.evaluate(FRAMES_JS, "#remote-video") > 0
    share.click()
    expect(share).to_have_attribute("aria-pressed", "false")
    assert client_page.evaluate(FRAMES_JS, "#remote-video") > 0
    assert client_page.evaluate(BRIGHTNESS_JS, "#remote-video") > 60


def test_the_other_side_sees_the_pointer_and_the_board_exports_as_png(new_page, tmp_path):
    consultation, sme_page, client_page = connect(new_page)
    assert client_page.evaluate(OVERLAY_INK_JS) == 0
    sme_page.locator("#whiteboard").scroll_into_view_if_needed()
    box = sme_page.locator("#whiteboard").bounding_box()
    sme_page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=4)
    client_page.wait_for_function(f"() => ({OVERLAY_INK_JS})() > 0", timeout=5000)

    draw(client_page, [(0.3, 0.3), (0.6, 0.6)])
    wait_for_ink(client_page, 1)
    with client_page.expect_download() as download_info:
        client_page.get_by_role("button", name="Save as PNG").click()
    download = download_info.value
    assert download.suggested_filename == "whiteboard.png"
    path = tmp_path / "board.png"
    download.save_as(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 1000
