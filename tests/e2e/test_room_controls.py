"""The room's controls in real browsers: extra time, the end, whiteboard tools, takeover, leaving, missing devices."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from sessions_app.models import Consultation
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, PageWatch, log_in
from tests.e2e.test_room import FRAMES_JS, PHONE, draw, enter, expect_state, ink, wait_for_ink
from tests.factories import make_ready_consultation

pytestmark = pytest.mark.django_db(transaction=True)


def connect(new_page, **kwargs):
    consultation = make_ready_consultation(**kwargs)
    sme_page = new_page(user=consultation.sme)
    client_page = new_page(user=consultation.client, viewport=PHONE)
    enter(sme_page, consultation)
    enter(client_page, consultation)
    expect_state(sme_page, "connected")
    expect_state(client_page, "connected")
    return consultation, sme_page, client_page


def test_sme_proposes_extra_time_client_accepts_and_both_timers_grow_then_sme_ends(new_page):
    consultation, sme_page, client_page = connect(new_page, minutes=20)
    expect(client_page.get_by_role("button", name="End consultation")).to_have_count(0)
    sme_page.get_by_label("Propose extra minutes").fill("10")
    sme_page.get_by_role("button", name="Propose to your client").click()
    expect(sme_page.locator("#extend-status")).to_have_text("Waiting for your client to accept 10 more minutes…")
    expect(client_page.locator("#extend-offer")).to_contain_text("Ada Expert proposes 10 more minutes.")
    client_page.get_by_role("button", name="Accept").click()
    for page in (sme_page, client_page):
        expect(page.locator("#session-timer")).to_have_text(re.compile(r"^(30:00|29:[0-5]\d) left$"))
        expect(page.locator("#agreed-time")).to_have_text("agreed time 30 minutes")  # the header follows
    expect(sme_page.locator("#extend-status")).to_have_text("Your client accepted: 10 minutes added.")
    expect(client_page.locator("#extend-offer")).to_be_hidden()
    consultation.refresh_from_db()
    assert consultation.total_minutes == 30

    sme_page.once("dialog", lambda dialog: dialog.accept())
    sme_page.get_by_role("button", name="End consultation").click()
    expect(sme_page.locator("#ended-message")).to_have_text("You ended the consultation. Thank you!")
    expect(client_page.locator("#ended-message")).to_have_text("Ada Expert ended the consultation. Thank you!")
    for page in (sme_page, client_page):
        expect_state(page, "ended")
        expect(page.locator("#call-status")).to_have_text("The consultation has ended.")
        expect(page.get_by_role("link", name="Rejoin the call")).to_be_hidden()  # it is over: nothing to rejoin
        expect(page.get_by_role("link", name="Back to your dashboard")).to_be_visible()
    consultation.refresh_from_db()
    assert consultation.state == Consultation.State.COMPLETED


def test_timer_warns_then_shows_overtime_and_the_call_goes_on(new_page):
    consultation, sme_page, client_page = connect(new_page, minutes=5)
    expect(sme_page.locator("#timer-note")).to_have_text("5 minutes left of the agreed time.")
    # Four minutes and ten seconds in (as far as the server knows), the client's page is reloaded.
    Consultation.objects.filter(pk=consultation.pk).update(live_at=timezone.now() - timedelta(seconds=250))
    client_page.reload()
    expect(client_page.locator("#session-timer")).to_have_text(re.compile(r"^0:[45]\d left$"))
    expect(client_page.locator("#timer-note")).to_have_text("1 minute left of the agreed time.")
    # Six minutes in: past the agreed time.
    Consultation.objects.filter(pk=consultation.pk).update(live_at=timezone.now() - timedelta(minutes=6))
    client_page.reload()
    expect_state(client_page, "connected")
    expect(client_page.locator("#session-timer")).to_have_text(re.compile(r"^Overtime \+1:0\d$"))
    expect(client_page.locator("#timer-note")).to_contain_text("The agreed time is up. The call goes on")
    assert client_page.evaluate(FRAMES_JS, "#remote-video") > 0
    expect_state(sme_page, "connected")


def test_undo_removes_only_ones_own_stroke_and_clear_empties_both_boards(new_page):
    consultation, sme_page, client_page = connect(new_page)
    draw(sme_page, [(0.1, 0.1), (0.4, 0.3)])
    sme_only = wait_for_ink(client_page, 1)
    draw(client_page, [(0.6, 0.6), (0.9, 0.9)])
    both = wait_for_ink(sme_page, sme_only + 1)
    client_page.get_by_role("button", name="Undo my last stroke").click()
    sme_page.wait_for_function(f"() => ({INK_JS_CALL}) === {sme_only}")
    client_page.wait_for_function(f"() => ({INK_JS_CALL}) === {sme_only}")
    assert both > sme_only
    expect(client_page.get_by_role("button", name="Undo my last stroke")).to_be_disabled()

    client_page.once("dialog", lambda dialog: dialog.accept())
    client_page.get_by_role("button", name="Clear…").click()
    sme_page.wait_for_function(f"() => ({INK_JS_CALL}) === 0")
    assert ink(client_page) == 0


def test_a_second_tab_takes_over_and_the_first_says_so(new_page):
    consultation, sme_page, client_page = connect(new_page)
    second = sme_page.context.new_page()
    second.watch = PageWatch(sme_page.watch.origin)
    second.watch.attach(second)
    enter(second, consultation)
    expect_state(sme_page, "ended")
    expect(sme_page.locator("#ended-message")).to_contain_text("another tab or window")
    expect(sme_page.get_by_role("link", name="Rejoin the call")).to_be_visible()
    expect_state(second, "connected")
    expect_state(client_page, "connected")
    assert second.evaluate(FRAMES_JS, "#remote-video") > 0
    assert not second.watch.problems


def test_leaving_tells_the_other_person_and_rejoining_works(new_page):
    consultation, sme_page, client_page = connect(new_page)
    client_page.get_by_role("button", name="Leave call").click()
    expect_state(client_page, "ended")
    expect_state(sme_page, "waiting")
    expect(sme_page.locator("#call-status")).to_have_text(re.compile("left the call"))
    client_page.get_by_role("link", name="Rejoin the call").click()
    expect_state(client_page, "connected")
    expect_state(sme_page, "connected")


@pytest.mark.parametrize(
    ("left_out", "permissions", "message"),
    [
        # Devices exist, but the person said no.
        (["--use-fake-ui-for-media-stream"], [], "Camera and microphone are blocked for this site."),
        # Consent given, but there is nothing to open (this machine has no camera or microphone).
        (["--use-fake-device-for-media-stream"], ["camera", "microphone"], "No camera or microphone found."),
    ],
)
def test_without_camera_or_microphone_the_call_goes_on_receive_only(
    playwright_instance, live_app, new_page, left_out, permissions, message
):
    args = [arg for arg in CHROMIUM_ARGS if arg not in left_out]
    bare = playwright_instance.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
    try:
        consultation = make_ready_consultation()
        sme_page = new_page(user=consultation.sme)
        context = bare.new_context(base_url=live_app.url, permissions=permissions)
        log_in(context, consultation.client, live_app.url)
        client_page = context.new_page()
        enter(sme_page, consultation)
        enter(client_page, consultation)
        expect(client_page.locator("#room-alert")).to_contain_text(message)
        expect_state(client_page, "connected")
        expect_state(sme_page, "connected")
        assert client_page.evaluate(FRAMES_JS, "#remote-video") > 0  # the client still sees the expert
        expect(client_page.locator("#camera-select")).to_be_disabled()
    finally:
        bare.close()


INK_JS_CALL = (
    "(() => { const c = document.getElementById('whiteboard');"
    " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
    " let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n += 1; return n; })()"
)
