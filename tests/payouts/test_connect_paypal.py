"""Connect PayPal: the Log in with PayPal flow (allauth's provider against the emulator, over HTTP) and its fallback."""

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.urls import reverse

from accounts.models import AuditEvent
from payouts import services
from payouts.paypal.emulator import payer_id_for
from tests.factories import make_client, make_sme

pytestmark = pytest.mark.django_db


def start(client):
    """The SME clicks Connect PayPal, then Continue: returns PayPal's authorize URL."""
    page = client.get(reverse("paypal_login") + "?process=connect")
    assert page.status_code == 200 and b"Continue to PayPal" in page.content
    answer = client.post(reverse("paypal_login") + "?process=connect")
    assert answer.status_code == 302
    return answer["Location"]


def paypal_answers(authorize_url, *, email="sme.paid@example.com", action="login"):
    """What the SME does on PayPal's page; returns the callback path and query PayPal sends the browser to."""
    page = requests.get(authorize_url, timeout=5)
    assert page.status_code == 200 and "Log in with PayPal" in page.text
    params = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
    answer = requests.post(
        authorize_url.split("?")[0], data={**params, "email": email, "action": action}, allow_redirects=False
    )
    assert answer.status_code == 302
    back = urlsplit(answer.headers["Location"])
    return f"{back.path}?{back.query}"


def test_connect_paypal_stores_the_verified_email_and_payer_id_and_audits_it(client, paypal_emulator):
    sme = make_sme()
    client.force_login(sme)
    authorize_url = start(client)
    assert authorize_url.startswith(f"{paypal_emulator.url}/webapps/auth/protocol/openidconnect/v1/authorize?")
    assert "paypalattributes" in authorize_url  # the scope that shares the payer id
    done = client.get(paypal_answers(authorize_url, email="Sme.Paid@example.com"))
    assert done.status_code == 302 and done["Location"] == "/dashboard/#paypal"
    sme.sme_profile.refresh_from_db()
    profile = sme.sme_profile
    assert (profile.paypal_email, profile.paypal_payer_id, profile.paypal_verified) == (
        "sme.paid@example.com",
        payer_id_for("sme.paid@example.com"),
        True,
    )
    event = AuditEvent.objects.get(event="paypal.connected", subject=sme)
    assert event.data["to"]["email"] == "sme.paid@example.com"
    dashboard = client.get("/dashboard/").content.decode()
    assert "PayPal connected" in dashboard and "sme.paid@example.com" in dashboard
    assert "Your PayPal account is connected" in dashboard


def test_the_continue_page_may_send_the_browser_to_paypal_and_no_other_page_may(client, paypal_emulator):
    client.force_login(make_sme())
    continue_csp = client.get(reverse("paypal_login") + "?process=connect")["Content-Security-Policy"]
    assert f"form-action 'self' {paypal_emulator.url}" in continue_csp
    assert "http" not in client.get("/dashboard/")["Content-Security-Policy"]


def test_an_sme_can_connect_another_paypal_account_and_the_change_is_audited(client, paypal_emulator):
    sme = make_sme()
    client.force_login(sme)
    client.get(paypal_answers(start(client), email="first@example.com"))
    client.get(paypal_answers(start(client), email="second@example.com"))
    sme.sme_profile.refresh_from_db()
    assert sme.sme_profile.paypal_payer_id == payer_id_for("second@example.com")
    latest = AuditEvent.objects.filter(event="paypal.connected", subject=sme).first()
    assert latest.data["from"]["email"] == "first@example.com" and latest.data["to"]["email"] == "second@example.com"


def test_cancelling_on_paypals_page_links_nothing_and_says_so(client, paypal_emulator):
    sme = make_sme()
    client.force_login(sme)
    done = client.get(paypal_answers(start(client), action="cancel"))
    assert done["Location"] == "/dashboard/#paypal"
    sme.sme_profile.refresh_from_db()
    assert sme.sme_profile.paypal_email == ""
    assert "you cancelled" in client.get("/dashboard/").content.decode()


@pytest.mark.parametrize("fault", ["server_error", "timeout"])
def test_paypal_failing_to_share_the_account_links_nothing_and_says_try_again(client, paypal_emulator, settings, fault):
    settings.SOCIALACCOUNT_REQUESTS_TIMEOUT = 1
    sme = make_sme()
    client.force_login(sme)
    back = paypal_answers(start(client))
    paypal_emulator.add_fault(fault, path="/v1/identity/openidconnect/userinfo")
    done = client.get(back)
    assert done.status_code == 302 and done["Location"] == "/dashboard/#paypal"
    sme.sme_profile.refresh_from_db()
    assert sme.sme_profile.paypal_email == ""
    assert "Try Connect PayPal again" in client.get("/dashboard/").content.decode()


def test_a_client_account_cannot_link_paypal(client, paypal_emulator):
    buyer = make_client()
    client.force_login(buyer)
    answer = client.post(reverse("paypal_login") + "?process=connect")
    done = client.get(paypal_answers(answer["Location"]))
    assert done["Location"] == "/dashboard/#paypal"
    assert not AuditEvent.objects.filter(event__startswith="paypal.").exists()
    assert client.post(reverse("paypal_disconnect")).status_code == 403


def test_paypal_is_never_a_way_to_log_in(client, paypal_emulator):
    answer = client.post(reverse("paypal_login") + "?process=login")
    done = client.get(paypal_answers(answer["Location"]))
    assert done["Location"] == reverse("account_login")
    assert "_auth_user_id" not in client.session


def test_disconnect_unlinks_paypal_and_keeps_the_balance(client, paypal_emulator):
    sme = make_sme()
    services.sme_paypal_connect(profile=sme.sme_profile, email="a@example.com", payer_id="ABCDEFGHJKLMN", actor=sme)
    services.ledger_debit_payout(account=sme, amount_cents=100, currency="USD", payout_item_ref="i1")
    client.force_login(sme)
    assert client.post(reverse("paypal_disconnect"))["Location"] == "/dashboard/#paypal"
    sme.sme_profile.refresh_from_db()
    assert (sme.sme_profile.paypal_email, sme.sme_profile.paypal_payer_id) == ("", "")
    assert AuditEvent.objects.filter(event="paypal.disconnected", subject=sme).exists()
    page = client.get("/dashboard/").content.decode()
    assert "PayPal not linked" in page and "Connect PayPal" in page and "−$1.00" in page


def test_the_dashboard_shows_the_smes_balance(client, paypal_emulator):
    sme = make_sme()
    admin = type(sme).objects.create_superuser("money-admin", "m@example.com", "x-Strong-pass-42")
    services.ledger_adjust(account=sme, amount_cents=123456, reason="Opening balance", admin=admin)
    client.force_login(sme)
    assert "$1,234.56" in client.get("/dashboard/").content.decode()


# --- Without Log in with PayPal: the SME types the address twice; it is marked unverified. ---


@pytest.fixture
def no_paypal_login(settings, paypal_emulator):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "paypal": {**settings.SOCIALACCOUNT_PROVIDERS["paypal"], "APPS": []},
    }


def test_without_paypal_login_the_sme_types_the_address_twice_and_it_is_unverified(client, no_paypal_login):
    sme = make_sme()
    client.force_login(sme)
    dashboard = client.get("/dashboard/").content.decode()
    assert "Connect PayPal" not in dashboard and "The same address again" in dashboard
    answer = client.post(reverse("paypal_email"), {"email": "Me@Example.com", "email_again": "me@example.com"})
    assert answer["Location"] == "/dashboard/#paypal"
    sme.sme_profile.refresh_from_db()
    assert (sme.sme_profile.paypal_email, sme.sme_profile.paypal_verified) == ("me@example.com", False)
    assert AuditEvent.objects.filter(event="paypal.email_entered", subject=sme).exists()
    assert "Unverified" in client.get("/dashboard/").content.decode()


def test_two_different_addresses_are_refused_and_what_was_typed_is_kept(client, no_paypal_login):
    sme = make_sme()
    client.force_login(sme)
    page = client.post(reverse("paypal_email"), {"email": "me@example.com", "email_again": "me@exmaple.com"})
    content = page.content.decode()
    assert page.status_code == 200 and "The two addresses differ" in content and 'value="me@exmaple.com"' in content
    sme.sme_profile.refresh_from_db()
    assert sme.sme_profile.paypal_email == ""


def test_an_address_that_is_not_an_email_is_refused(client, no_paypal_login):
    client.force_login(make_sme())
    page = client.post(reverse("paypal_email"), {"email": "me at example", "email_again": "me at example"})
    assert page.status_code == 200 and "Enter a valid email address" in page.content.decode()


def test_the_admin_shows_the_paypal_link_but_cannot_change_it_unaudited(client):
    sme = make_sme()
    services.sme_paypal_connect(profile=sme.sme_profile, email="a@example.com", payer_id="ABCDEFGHJKLMN", actor=sme)
    admin = type(sme).objects.create_superuser("profile-admin", "p@example.com", "x-Strong-pass-42")
    client.force_login(admin)
    url = f"/admin/accounts/smeprofile/{sme.sme_profile.pk}/change/"
    page = client.get(url).content.decode()
    assert "a@example.com" in page and 'name="paypal_email"' not in page
    client.post(url, {"display_name": "Ada", "headline": "", "paypal_email": "thief@example.com"})
    sme.sme_profile.refresh_from_db()
    assert sme.sme_profile.paypal_email == "a@example.com"


def test_a_payout_goes_to_the_verified_payer_id_and_paypal_knows_whose_it_is(client, paypal_emulator):
    """Connect PayPal as an address PayPal will fail payouts to; a payout to the stored payer id then fails."""
    from payouts.paypal.gateway import PayoutRequestItem, get_gateway
    from payouts.selectors import sme_payout_receiver

    sme = make_sme()
    client.force_login(sme)
    client.get(paypal_answers(start(client), email="sme+failed@example.com"))
    sme.sme_profile.refresh_from_db()
    receiver = sme_payout_receiver(profile=sme.sme_profile)
    assert (receiver.recipient_type, receiver.receiver) == ("PAYPAL_ID", payer_id_for("sme+failed@example.com"))
    gateway = get_gateway()
    item = PayoutRequestItem(
        sender_item_id="i-1", amount_cents=500, currency="USD", receiver=receiver.receiver, recipient_type="PAYPAL_ID"
    )
    batch = gateway.create_payout_batch(sender_batch_id="run-payer-id", items=[item])
    gateway.get_payout_batch(payout_batch_id=batch.payout_batch_id)
    [result] = gateway.get_payout_batch(payout_batch_id=batch.payout_batch_id).items
    assert result.transaction_status == "FAILED"


def test_an_unverified_address_is_paid_by_email_and_no_link_means_no_receiver():
    from payouts.selectors import sme_payout_receiver

    sme = make_sme()
    assert sme_payout_receiver(profile=sme.sme_profile) is None
    services.sme_paypal_enter_email(profile=sme.sme_profile, email="typed@example.com", actor=sme)
    receiver = sme_payout_receiver(profile=sme.sme_profile)
    assert (receiver.recipient_type, receiver.receiver) == ("EMAIL", "typed@example.com")


def test_a_typed_address_does_not_silently_replace_a_verified_account(client, no_paypal_login):
    sme = make_sme()
    services.sme_paypal_connect(profile=sme.sme_profile, email="real@example.com", payer_id="ABCDEFGHJKLMN", actor=sme)
    client.force_login(sme)
    typed = {"email": "typo@example.com", "email_again": "typo@example.com"}
    page = client.post(reverse("paypal_email"), typed)
    assert page.status_code == 200
    assert "Replace my verified PayPal account with this address" in page.content.decode()
    sme.sme_profile.refresh_from_db()
    assert (sme.sme_profile.paypal_email, sme.sme_profile.paypal_verified) == ("real@example.com", True)

    client.post(reverse("paypal_email"), {**typed, "replace_verified": "yes"})
    sme.sme_profile.refresh_from_db()
    assert (sme.sme_profile.paypal_email, sme.sme_profile.paypal_verified) == ("typo@example.com", False)


def test_the_typed_address_page_is_not_offered_where_connect_paypal_is(client, paypal_emulator):
    sme = make_sme()
    client.force_login(sme)
    response = client.get(reverse("paypal_email"))
    assert response.status_code == 302 and response["Location"] == "/dashboard/#paypal"
    client.post(reverse("paypal_email"), {"email": "me@example.com", "email_again": "me@example.com"})
    sme.sme_profile.refresh_from_db()
    assert sme.sme_profile.paypal_email == ""


def test_disconnect_paypal_asks_first(client):
    sme = make_sme()
    services.sme_paypal_connect(profile=sme.sme_profile, email="real@example.com", payer_id="ABCDEFGHJKLMN", actor=sme)
    client.force_login(sme)
    dashboard = client.get("/dashboard/").content.decode()
    assert f'href="{reverse("paypal_disconnect")}"' in dashboard  # a link to a question, not a one-click form
    page = client.get(reverse("paypal_disconnect")).content.decode()
    assert "Disconnect PayPal?" in page and "real@example.com" in page and "Keep it linked" in page
    sme.sme_profile.refresh_from_db()
    assert sme.sme_profile.paypal_email == "real@example.com"
