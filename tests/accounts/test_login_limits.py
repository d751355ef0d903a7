"""Login limits that an attacker cannot turn against others: per client address behind the TLS proxy,
and per browser once an account logged in there (README, "Login limits")."""

from __future__ import annotations

import json

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from accounts.adapters import KNOWN_DEVICE_COOKIE
from tests.factories import PASSWORD, make_client
from tests.interkanect.test_settings import PRODUCTION, manage

pytestmark = pytest.mark.django_db
PROXY = "10.0.0.2"  # what daphne sees as REMOTE_ADDR for every visitor behind the proxy
TOO_MANY = b"Too many failed login attempts"


def log_in(client: Client, login: str, password: str, *, forwarded_for: str | None = None):
    headers = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for else {}
    return client.post(reverse("account_login"), {"login": login, "password": password}, **headers)


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


# --- Behind the proxy: the client's address, from the proxy's header, only when told to trust it. ---


def proxy_settings(**env: str) -> dict:
    """The allauth settings that interkanect.settings derives from these variables."""
    code = (
        "import json; from django.conf import settings as s;"
        "print(json.dumps({name: getattr(s, name, None) for name in "
        "('ALLAUTH_TRUSTED_PROXY_COUNT', 'ALLAUTH_TRUSTED_CLIENT_IP_HEADER')}))"
    )
    result = manage("shell", "-v", "0", "-c", code, **env)
    assert result.returncode == 0, result.stderr
    return {name: value for name, value in json.loads(result.stdout).items() if value is not None}


def test_one_attacker_behind_the_proxy_cannot_lock_everyone_out():
    make_client(username="victim")
    configured = proxy_settings(DJANGO_BEHIND_TLS_PROXY="1", DJANGO_TRUSTED_PROXY_COUNT="1")
    with override_settings(**configured):
        attacker = Client()
        # Failures on many usernames (so no account limit is reached) exhaust the limit per address. The
        # attacker also forges X-Forwarded-For entries; the proxy appends the real address after them.
        for n in range(10):
            log_in(attacker, f"nobody{n}", "wrong", forwarded_for=f"192.0.2.{n}, 203.0.113.9")
        assert TOO_MANY in log_in(attacker, "nobody", "wrong", forwarded_for="192.0.2.99, 203.0.113.9").content
        # Everyone else behind the same proxy still logs in.
        visitor = Client()
        log_in(visitor, "victim", PASSWORD, forwarded_for="198.51.100.7")
        assert logged_in(visitor)


def test_the_proxy_header_is_ignored_unless_a_proxy_count_is_set():
    assert proxy_settings(DJANGO_BEHIND_TLS_PROXY="1").get("ALLAUTH_TRUSTED_PROXY_COUNT", 0) == 0
    assert proxy_settings(DJANGO_BEHIND_TLS_PROXY="1", DJANGO_TRUSTED_CLIENT_IP_HEADER="X-Real-IP") == {
        "ALLAUTH_TRUSTED_PROXY_COUNT": 0,
        "ALLAUTH_TRUSTED_CLIENT_IP_HEADER": "X-Real-IP",
    }


def test_a_proxy_count_without_the_proxy_is_refused_at_startup():
    result = manage("check", DJANGO_TRUSTED_PROXY_COUNT="1")
    assert result.returncode != 0 and "need DJANGO_BEHIND_TLS_PROXY=1" in result.stderr


def test_check_deploy_warns_behind_the_proxy_until_told_how_to_find_the_client():
    behind = {**PRODUCTION, "DJANGO_BEHIND_TLS_PROXY": "1"}
    result = manage("check", "--deploy", "--fail-level", "WARNING", **behind)
    assert result.returncode != 0 and "interkanect.W004" in result.stderr
    result = manage("check", "--deploy", "--fail-level", "WARNING", **behind, DJANGO_TRUSTED_PROXY_COUNT="1")
    assert result.returncode == 0, result.stderr


# --- Per account: a known username cannot be locked out of its owner's own browser. ---


def owners_browser(username: str) -> Client:
    browser = Client()
    log_in(browser, username, PASSWORD)
    assert logged_in(browser) and browser.cookies.get(KNOWN_DEVICE_COOKIE)
    browser.post(reverse("account_logout"))
    assert not logged_in(browser)
    return browser


def test_failed_logins_by_a_stranger_do_not_lock_the_owner_out_of_their_browser():
    make_client(username="olive")
    owner = owners_browser("olive")
    stranger = Client()
    for _ in range(5):
        log_in(stranger, "olive", "wrong")
    # The stranger is stopped, even with the right password...
    assert TOO_MANY in log_in(stranger, "olive", PASSWORD).content
    assert not logged_in(stranger)
    # ...and the owner, on a browser where they logged in before, is not.
    log_in(owner, "olive", PASSWORD)
    assert logged_in(owner)


def test_guessing_on_a_known_browser_is_limited_too():
    make_client(username="pablo")
    browser = owners_browser("pablo")
    for _ in range(5):
        log_in(browser, "pablo", "wrong")
    assert TOO_MANY in log_in(browser, "pablo", PASSWORD).content
    assert not logged_in(browser)


def test_a_browser_known_to_another_account_or_a_forged_cookie_gets_no_exemption():
    make_client(username="quinn")
    make_client(username="mallory")
    mallory = owners_browser("mallory")  # a real cookie, for mallory's own account
    for _ in range(5):
        log_in(mallory, "quinn", "wrong")
    assert TOO_MANY in log_in(mallory, "quinn", PASSWORD).content
    forged = Client()
    forged.cookies[KNOWN_DEVICE_COOKIE] = '{"user": 1, "device": "x"}'
    assert TOO_MANY in log_in(forged, "quinn", PASSWORD).content
    assert not logged_in(mallory) and not logged_in(forged)
