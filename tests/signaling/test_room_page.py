"""The room page: DESIGN.md's element contract, its modules from our own origin, no inline script."""

import re

import pytest

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
    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts == ['<script type="module" src="/static/js/room/main.js">']
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert 'id="end-consultation"' not in html  # only the expert can end it


def test_only_the_sme_gets_the_end_and_extension_controls(client):
    consultation = make_ready_consultation()
    client.force_login(consultation.sme)
    html = client.get(f"/rooms/{consultation.token}/").content.decode()
    assert 'id="end-consultation"' in html and 'id="extend-form"' in html and 'id="extend-offer"' not in html
