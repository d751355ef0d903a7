"""TURN REST credentials: coturn's use-auth-secret scheme, short-lived, handed out only with the settings."""

import base64
import hashlib
import hmac
import time

from signaling.turn import ice_servers, turn_credential


def test_credential_is_the_hmac_of_a_username_that_carries_its_expiry():
    username, credential = turn_credential(secret="s3cret", ttl_seconds=600, now=1_000_000)
    expires, _, tag = username.partition(":")
    assert int(expires) == 1_000_600 and tag
    expected = base64.b64encode(hmac.new(b"s3cret", username.encode(), hashlib.sha1).digest()).decode()
    assert credential == expected


def test_each_connection_gets_different_credentials():
    assert turn_credential(secret="s", ttl_seconds=60)[0] != turn_credential(secret="s", ttl_seconds=60)[0]


def test_ice_servers_follow_the_settings(settings):
    settings.ICE_STUN_URLS, settings.ICE_TURN_URLS = [], []
    assert ice_servers() == []
    settings.ICE_STUN_URLS = ["stun:turn.example.com:3478"]
    settings.ICE_TURN_URLS = ["turn:turn.example.com:3478?transport=udp"]
    settings.ICE_TURN_SECRET, settings.ICE_TURN_CREDENTIAL_TTL_SECONDS = "k", 300
    stun, turn = ice_servers()
    assert stun == {"urls": ["stun:turn.example.com:3478"]}
    assert turn["urls"] == ["turn:turn.example.com:3478?transport=udp"]
    assert 290 <= int(turn["username"].split(":")[0]) - time.time() <= 300
