"""Nothing of a call reaches the server's records: not in its log, not in its database."""

import pytest
from django.db import connection
from playwright.sync_api import expect

from tests.e2e.test_room import call, draw, wait_for_ink  # noqa: F401  (call is a fixture)

pytestmark = pytest.mark.django_db(transaction=True)

SECRET_CHAT = "my account number is 4242-PRIVATE"


def test_a_call_leaves_no_chat_sdp_address_or_room_link_in_the_server_log_or_database(call, live_app):  # noqa: F811
    consultation, sme_page, client_page = call
    client_page.get_by_role("textbox", name="Message").fill(SECRET_CHAT)
    client_page.get_by_role("textbox", name="Message").press("Enter")
    expect(sme_page.locator("#chat-log")).to_contain_text(SECRET_CHAT)
    draw(sme_page, [(0.2, 0.2), (0.6, 0.6)])
    wait_for_ink(client_page, wait_for_ink(sme_page, 1))
    sme_page.reload()  # a second round of signaling (offer, answer, candidates)
    expect(sme_page.locator("body")).to_have_attribute("data-call-state", "connected", timeout=20_000)

    log = live_app.log_path.read_text()
    for secret in (SECRET_CHAT, consultation.token, "a=fingerprint", "a=candidate", "WSCONNECT", "GET /rooms/"):
        assert secret not in log, f"The server log holds {secret!r}"

    # The database holds no chat text or SDP in any text column of any table.
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            dump = repr(cursor.fetchall())
            assert SECRET_CHAT not in dump and "a=fingerprint" not in dump, f"{table} holds call content"
