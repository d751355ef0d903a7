"""The room page: DESIGN.md's element contract, its modules from our own origin, no inline script."""

import json
import re
from pathlib import Path

import pytest

from sessions_app.services import MAX_EXTENSION_MINUTES
from signaling import messages
from tests.factories import make_ready_consultation

pytestmark = pytest.mark.django_db

CONTRACT_IDS = ["local-video", "remote-video", "whiteboard", "chat-input", "chat-log", "session-timer", "safety-code"]


def test_room_page_has_the_state_contract_and_loads_only_its_own_module(client):
    consultation = make_ready_consultation(minutes=45, title="Tax return review")
    client.force_login(consultation.client)
    response = client.get(f"/rooms/{consultation.token}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-call-state="waiting"' in html
    for element_id in CONTRACT_IDS:
        assert f'id="{element_id}"' in html
    assert re.search(r"<canvas id=\"whiteboard\"", html)
    assert "<h1>Tax return review</h1>" in html and "45 minutes" in html
    scripts = [tag for tag in re.findall(r"<script[^>]*>", html) if 'type="application/json"' not in tag]
    assert scripts == ['<script type="module" src="/static/js/room/main.js">']  # data blocks are never run
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert 'id="end-consultation"' not in html  # only the expert can end it


def test_only_the_sme_gets_the_end_and_extension_controls(client):
    consultation = make_ready_consultation()
    client.force_login(consultation.sme)
    html = client.get(f"/rooms/{consultation.token}/").content.decode()
    assert 'id="end-consultation"' in html and 'id="extend-form"' in html and 'id="extend-offer"' not in html


def test_the_room_gets_its_close_codes_and_extension_limits_from_the_server_not_a_copy_in_js(client):
    consultation = make_ready_consultation()
    client.force_login(consultation.sme)
    html = client.get(f"/rooms/{consultation.token}/").content.decode()
    data = re.search(r'<script id="room-contract" type="application/json">(.*?)</script>', html, re.S)
    contract = json.loads(data.group(1))
    assert contract["close"]["ended"] == messages.CLOSE_ENDED
    assert contract["close"]["refused"] == messages.CLOSE_REFUSED
    finals = {messages.CLOSE_REPLACED, messages.CLOSE_TOO_FAST, messages.CLOSE_TOO_MANY_ERRORS, messages.CLOSE_ENDED}
    assert set(contract["final_close_codes"]) == finals | set(messages.CLOSE_REFUSED.values())
    assert contract["extension_minutes"] == {"min": 1, "max": MAX_EXTENSION_MINUTES}
    assert f'max="{MAX_EXTENSION_MINUTES}"' in html
    room_js = Path(__file__).resolve().parents[2] / "static" / "js" / "room"
    for module in room_js.glob("*.js"):
        source = module.read_text()
        for code in contract["final_close_codes"]:
            assert str(code) not in source, f"{module.name} has a copy of the close code {code}"
        assert str(MAX_EXTENSION_MINUTES) not in source, f"{module.name} has the maximum extension of its own"
