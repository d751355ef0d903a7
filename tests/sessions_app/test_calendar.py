"""The .ics file: text escaped per RFC 5545, long lines folded, nothing a name can inject."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.services import sme_profile_update
from sessions_app.ics import consultation_ics
from tests.factories import make_consultation, make_sme

pytestmark = pytest.mark.django_db


def scheduled(sme, **kwargs):
    return make_consultation(sme=sme, scheduled_start=timezone.now() + timedelta(days=2), **kwargs)


def physical_lines(ics: str) -> list[str]:
    # Lines end with CRLF and nothing else: a bare CR or LF inside a line is what a reader may split on.
    assert ics.endswith("\r\n")
    lines = ics[:-2].split("\r\n")
    for line in lines:
        assert "\r" not in line and "\n" not in line, repr(line)
    return lines


def unfolded(ics: str) -> dict[str, str]:
    """Property name -> value, after undoing RFC 5545 folding (CRLF followed by one space)."""
    properties: dict[str, str] = {}
    for line in ics.replace("\r\n ", "").split("\r\n"):
        if line:
            name, _, value = line.partition(":")
            properties.setdefault(name, value)
    return properties


@pytest.mark.parametrize("breaker", ["\r", "\n", "\r\n", "\x85", "\u2028"])
def test_a_line_break_in_a_display_name_cannot_add_a_property(breaker):
    sme = make_sme()
    sme_profile_update(
        profile=sme.sme_profile, display_name=f"Eve{breaker}ATTENDEE:mailto:eve@evil.example", headline=""
    )
    ics = consultation_ics(scheduled(sme))
    lines = physical_lines(ics)
    assert not any(re.match(r"\s*ATTENDEE", line) for line in lines)
    assert "Eve\\nATTENDEE:mailto:eve@evil.example" in unfolded(ics)["DESCRIPTION"]


def test_text_special_characters_are_escaped():
    sme = make_sme(display_name="Smith, Jane; PhD \\ tax")
    ics = consultation_ics(scheduled(sme, title="Taxes; wages, and \\ more"))
    properties = unfolded(ics)
    assert properties["SUMMARY"] == "Taxes\\; wages\\, and \\\\ more"
    assert "Smith\\, Jane\\; PhD \\\\ tax" in properties["DESCRIPTION"]


def test_other_control_characters_are_dropped():
    sme = make_sme(display_name="Bell\x07 and\x0b vt\x1b")
    properties = unfolded(consultation_ics(scheduled(sme)))
    assert "Bell and vt." in properties["DESCRIPTION"]


def test_long_lines_fold_at_75_octets_without_splitting_a_character():
    name = "Zoë Ωmega 東京の専門家 " * 6  # multi-byte characters across every fold
    sme = make_sme(display_name=name.strip()[:80])
    ics = consultation_ics(scheduled(sme, title="Überprüfung der Steuererklärung für Selbständige 2026, Teil 2"))
    for line in physical_lines(ics):
        assert len(line.encode("utf-8")) <= 75, line
    properties = unfolded(ics)
    assert name.strip()[:80] in properties["DESCRIPTION"]
    assert properties["SUMMARY"] == "Überprüfung der Steuererklärung für Selbständige 2026\\, Teil 2"
