"""Every control in the room works from the keyboard alone, the whiteboard included."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.test_room import ink, wait_for_ink
from tests.e2e.test_room_controls import connect

pytestmark = pytest.mark.django_db(transaction=True)

SME_CONTROLS = {
    "mic-toggle",
    "camera-toggle",
    "screen-toggle",
    "hangup",
    "end-consultation",
    "extend-minutes",
    "board-width",
    "board-eraser",
    "board-clear",
    "board-export",
    "whiteboard",
    "chat-log",
    "chat-input",
}


def tab_order(page, presses: int = 80) -> list[str]:
    page.locator("body").focus()
    seen = []
    for _ in range(presses):
        page.keyboard.press("Tab")
        seen.append(page.evaluate("document.activeElement.id || document.activeElement.name || ''"))
    return seen


def test_every_room_control_is_reached_and_used_from_the_keyboard(new_page):
    consultation, sme_page, client_page = connect(new_page)
    reached = set(tab_order(sme_page))
    assert SME_CONTROLS <= reached, f"not reachable with Tab: {sorted(SME_CONTROLS - reached)}"
    assert "pen-color" in reached  # the colour radios, one stop for the group

    # A button, by keyboard.
    sme_page.locator("#mic-toggle").focus()
    sme_page.keyboard.press("Enter")
    expect(sme_page.locator("#mic-toggle")).to_have_attribute("aria-pressed", "true")
    sme_page.keyboard.press("Space")
    expect(sme_page.locator("#mic-toggle")).to_have_attribute("aria-pressed", "false")

    # The chat, by keyboard.
    sme_page.locator("#chat-input").focus()
    sme_page.keyboard.type("Typed without a mouse")
    sme_page.keyboard.press("Enter")
    expect(client_page.locator("#chat-log")).to_contain_text("Typed without a mouse")

    # The whiteboard: Space puts the pen down, the arrows draw, Space lifts it; the other side sees the line.
    assert ink(client_page) == 0
    board = sme_page.locator("#whiteboard")
    board.focus()
    expect(board).to_have_accessible_description(
        "Keyboard: Tab to the board, then Space puts the pen down or lifts it, the arrow keys move it "
        "(hold Shift for bigger steps), Escape lifts it. Words are easier in the chat."
    )
    sme_page.keyboard.press("Space")
    for key in ["ArrowRight"] * 6 + ["Shift+ArrowDown"] * 2:
        sme_page.keyboard.press(key)
    sme_page.keyboard.press("Space")
    drawn = wait_for_ink(client_page, 1)
    assert drawn > 200  # a line, not a dot
    # It is an ordinary stroke of the SME's: undo (a button, by keyboard) takes it back on both sides.
    sme_page.locator("#board-undo").focus()
    sme_page.keyboard.press("Enter")
    client_page.wait_for_function(
        "() => document.getElementById('whiteboard').getContext('2d')"
        ".getImageData(0, 0, 1600, 1000).data.every((v, i) => i % 4 !== 3 || v === 0)"
    )
