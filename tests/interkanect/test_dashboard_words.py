"""What the SME dashboard says: no contradictions, no "0 of your 0"."""

import pytest

from tests.factories import make_sme
from tests.sessions_app.policy_helpers import default_limits, make_flagged_sme  # noqa: F401 (autouse)

pytestmark = pytest.mark.django_db


def test_a_new_sme_reads_no_0_of_0(client):
    client.force_login(make_sme())
    page = client.get("/dashboard/").content.decode()
    assert "0 of your 0" not in page
    assert "You have held no sessions in the last 30 days." in page


def test_an_sme_under_review_is_not_also_in_good_standing(client):
    sme, _case = make_flagged_sme()
    client.force_login(sme)
    page = client.get("/dashboard/").content.decode()
    assert "Under review" in page and "In good standing" not in page
    assert "You can still create and host consultations" in page
    assert "9 of your 9 sessions" in page


def test_an_sme_in_the_clear_is_in_good_standing(client):
    client.force_login(make_sme())
    assert "In good standing" in client.get("/dashboard/").content.decode()
