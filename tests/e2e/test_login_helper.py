"""new_page(user=...), which the other browser tests rely on, gives a real, working session."""

import pytest
from playwright.sync_api import expect

from tests.factories import make_client

pytestmark = pytest.mark.django_db(transaction=True)


def test_log_in_helper_opens_the_clients_page(live_app, new_page):
    client = make_client(username="helper-check")
    page = new_page(user=client)
    page.goto("/dashboard/")
    expect(page.get_by_role("heading", name="My consultations")).to_be_visible()
