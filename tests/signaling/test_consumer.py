"""The room's WebSocket, through the real ASGI stack (origin check, session auth), on both channel layers."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import uuid

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.apps import apps
from django.conf import settings as django_settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.core import serializers

from interkanect.asgi import application
from sessions_app.models import Consultation
from sessions_app.services import consultation_cancel
from tests.factories import make_client, make_ready_consultation, make_sme

pytestmark = pytest.mark.django_db(transaction=True)
ORIGIN = b"http://127.0.0.1"


@pytest.fixture(params=["memory", "redis"], autouse=True)
def layer(request, settings):
    """Every test runs on the in-memory layer (one process) and on channels-redis (many processes)."""
    if request.param == "redis":
        url = os.environ.get("REDIS_URL")
        if not url:
            pytest.skip("REDIS_URL is not set: the channels-redis variant runs in the PostgreSQL + Redis suite.")
        settings.CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "interkanect.channel_layers.LocalFirstRedisChannelLayer",
                "CONFIG": {"hosts": [url], "prefix": f"test-{uuid.uuid4().hex[:8]}"},
            }
        }
    else:
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "interkanect.channel_layers.SweepingInMemoryChannelLayer"}}
    yield request.param


def session_cookie(user) -> bytes:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return f"{django_settings.SESSION_COOKIE_NAME}={session.session_key}".encode()


@pytest.fixture
def room():
    consultation = make_ready_consultation(minutes=30)
    return consultation, session_cookie(consultation.sme), session_cookie(consultation.client)


async def open_socket(token: str, cookie: bytes | None, origin: bytes = ORIGIN) -> WebsocketCommunicator:
    headers = [(b"origin", origin), (b"host", b"127.0.0.1")]
    if cookie:
        headers.append((b"cookie", cookie))
    communicator = WebsocketCommunicator(application, f"/ws/rooms/{token}/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def receive(communicator: WebsocketCommunicator, timeout: float = 2) -> dict:
    return json.loads(await communicator.receive_from(timeout=timeout))


async def join_both(room):
    consultation, sme_cookie, client_cookie = room
    sme = await open_socket(consultation.token, sme_cookie)
    assert (await receive(sme))["type"] == "welcome"
    client = await open_socket(consultation.token, client_cookie)
    welcome = await receive(client)
    assert welcome["type"] == "welcome" and welcome["peer_present"]
    assert (await receive(sme))["type"] == "peer-joined"
    assert (await receive(sme))["type"] == "timer"  # the timer starts now, for both
    assert (await receive(client))["type"] == "timer"
    return sme, client


async def close_all(*communicators):
    for communicator in communicators:
        await communicator.disconnect()
    await get_channel_layer().flush() if hasattr(get_channel_layer(), "flush") else None


async def expect_close(communicator: WebsocketCommunicator, code: int) -> None:
    while True:
        output = await communicator.receive_output(timeout=2)
        if output["type"] == "websocket.close":
            assert output["code"] == code
            return


# --- Admission ---


async def test_members_are_welcomed_with_role_timer_and_presence(room):
    consultation, sme_cookie, client_cookie = room
    sme = await open_socket(consultation.token, sme_cookie)
    welcome = await receive(sme)
    assert welcome["role"] == "sme" and welcome["peer_present"] is False
    assert welcome["timer"]["started_at"] is None and welcome["timer"]["total_minutes"] == 30
    assert welcome["ice_transport_policy"] == "all" and isinstance(welcome["ice_servers"], list)

    client = await open_socket(consultation.token, client_cookie)
    welcome = await receive(client)
    assert welcome["role"] == "client" and welcome["peer_present"] is True
    assert (await receive(sme))["type"] == "peer-joined"
    # The SME's side answered, so both are connected: the consultation goes live and both timers start.
    timers = [await receive(sme), await receive(client)]
    assert all(timer["type"] == "timer" and timer["started_at"] for timer in timers)
    assert timers[0]["started_at"] == timers[1]["started_at"]
    live = await database_sync_to_async(Consultation.objects.get)(pk=consultation.pk)
    assert live.state == Consultation.State.LIVE
    await close_all(sme, client)


@pytest.mark.parametrize(
    ("who", "code", "close_code"),
    [
        ("stranger", "not_member", 4403),
        ("anonymous", "login", 4401),
        ("bad_token", "not_found", 4404),
        ("cancelled", "closed", 4410),
        ("disqualified", "sme_not_allowed", 4451),
        ("unclaimed", "not_ready", 4409),
    ],
)
async def test_everyone_else_is_refused_with_a_code_and_a_reason(room, who, code, close_code):
    consultation, sme_cookie, _ = room
    token, cookie = consultation.token, sme_cookie

    def arrange():
        nonlocal token, cookie
        if who == "stranger":
            cookie = session_cookie(make_client())
        elif who == "anonymous":
            cookie = None
        elif who == "bad_token":
            token = "x" * 43
        elif who == "cancelled":
            consultation_cancel(consultation=consultation, actor=consultation.sme)
        elif who == "disqualified":
            profile = consultation.sme.sme_profile
            profile.disqualified_at = consultation.created_at
            profile.save()
        elif who == "unclaimed":
            from tests.factories import make_consultation

            sme = make_sme()
            token, cookie = make_consultation(sme=sme).token, session_cookie(sme)

    await database_sync_to_async(arrange)()
    socket = await open_socket(token, cookie)
    error = await receive(socket)
    assert error["type"] == "error" and error["code"] == code and error["message"]
    output = await socket.receive_output(timeout=2)
    assert output == {"type": "websocket.close", "code": close_code, "reason": output["reason"]}
    assert output["reason"]
    await socket.wait()


async def test_a_page_from_another_site_cannot_open_the_socket(room):
    consultation, sme_cookie, _ = room
    communicator = WebsocketCommunicator(
        application,
        f"/ws/rooms/{consultation.token}/",
        headers=[(b"origin", b"https://evil.example"), (b"cookie", sme_cookie)],
    )
    connected, _ = await communicator.connect()
    assert not connected


# --- Relay ---


async def test_signaling_goes_to_the_other_member_only_and_unchanged(room):
    sme, client = await join_both(room)
    offer = {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}
    await sme.send_to(text_data=json.dumps(offer))
    assert await receive(client) == offer
    assert await sme.receive_nothing(timeout=0.2)
    candidate = {
        "type": "candidate",
        "candidate": {
            "candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host",
            "sdpMid": "0",
            "sdpMLineIndex": 0,
            "usernameFragment": "abcd",
        },
    }
    await client.send_to(text_data=json.dumps(candidate))
    assert await receive(sme) == candidate
    for kind in ("answer", "bye", "restart"):
        frame = {"type": kind, "sdp": "v=0\r\n"} if kind == "answer" else {"type": kind}
        await client.send_to(text_data=json.dumps(frame))
        assert await receive(sme) == frame
    await close_all(sme, client)


async def test_relay_makes_no_database_query(room):
    sme, client = await join_both(room)

    @database_sync_to_async
    def count_queries():
        # The consumer's ORM calls all run on the one thread database_sync_to_async uses; watch it.
        from django.db import connection

        seen: list[str] = []

        def wrapper(execute, sql, params, many, context):
            seen.append(sql)
            return execute(sql, params, many, context)

        connection.execute_wrappers.append(wrapper)
        return seen

    seen = await count_queries()
    for n in range(20):
        await sme.send_to(text_data=json.dumps({"type": "offer", "sdp": f"v=0 {n}"}))
        assert (await receive(client))["sdp"] == f"v=0 {n}"
    assert seen == []
    # The watch works: a control request (which does go through a service) is seen.
    await sme.send_to(text_data=json.dumps({"type": "extend-propose", "minutes": 5}))
    await receive(sme)
    assert seen
    await close_all(sme, client)


async def test_relaying_a_frame_never_leaves_the_event_loop_thread(room, monkeypatch):
    """Each relayed frame crossed into Channels' thread-sensitive executor twice (connection housekeeping in
    AsyncConsumer.dispatch, for the sender's receive and the receiver's room_relay): a relay hops no thread."""
    sme, client = await join_both(room)
    loop = asyncio.get_running_loop()
    hops: list[str] = []
    run_in_executor = loop.run_in_executor

    def watched(executor, func, *args):
        # Every sync_to_async / database_sync_to_async call (and any other thread hop) comes through here.
        hops.append(repr(func))
        return run_in_executor(executor, func, *args)

    monkeypatch.setattr(loop, "run_in_executor", watched)
    for n in range(10):
        await sme.send_to(text_data=json.dumps({"type": "candidate", "candidate": None}))
        assert await receive(client) == {"type": "candidate", "candidate": None}
        await client.send_to(text_data=json.dumps({"type": "answer", "sdp": f"v=0 {n}"}))
        assert (await receive(sme))["sdp"] == f"v=0 {n}"
    assert hops == []
    # The watch works: a control request (which goes through a service) hops to the database thread.
    await sme.send_to(text_data=json.dumps({"type": "extend-propose", "minutes": 5}))
    await receive(sme)
    assert any("thread_handler" in hop for hop in hops)
    await close_all(sme, client)


async def test_second_tab_takes_over_and_the_first_is_told(room):
    consultation, sme_cookie, _ = room
    first, client = await join_both(room)
    second = await open_socket(consultation.token, sme_cookie)
    assert (await receive(second))["peer_present"] is True
    replaced = await receive(first)
    assert replaced["type"] == "replaced" and "another tab" in replaced["message"]
    await expect_close(first, 4001)
    assert (await receive(client))["type"] == "peer-joined"
    await client.send_to(text_data=json.dumps({"type": "bye"}))
    assert await receive(second) == {"type": "bye"}
    assert await client.receive_nothing(timeout=0.3)  # the old tab leaving is not reported as the SME leaving
    await close_all(second, client)


async def test_a_member_left_behind_by_a_dead_server_process_is_forgotten(room, settings):
    settings.SIGNALING_PEER_REPLY_SECONDS = 0.3
    consultation, sme_cookie, _ = room
    stale = "specific.dead-process!abc"  # the client's channel on a server process that crashed
    await database_sync_to_async(Consultation.objects.filter(pk=consultation.pk).update)(client_channel=stale)
    sme = await open_socket(consultation.token, sme_cookie)
    assert (await receive(sme))["peer_present"] is True
    assert (await receive(sme))["type"] == "peer-left"  # nobody answered
    saved = await database_sync_to_async(Consultation.objects.get)(pk=consultation.pk)
    assert saved.client_channel == "" and saved.state == Consultation.State.READY  # not live: never both here
    await close_all(sme)


async def test_peer_is_told_when_the_other_member_leaves(room):
    sme, client = await join_both(room)
    await client.disconnect()
    assert (await receive(sme))["type"] == "peer-left"
    await sme.send_to(text_data=json.dumps({"type": "offer", "sdp": "x"}))  # nobody to relay to: dropped quietly
    assert await sme.receive_nothing(timeout=0.2)
    await close_all(sme)


# --- Validation and limits ---


async def test_bad_frames_get_an_error_and_the_connection_goes_on(room):
    sme, client = await join_both(room)
    for text in ["nope", '{"type": "media"}', '{"type": "offer"}', '{"type": "offer", "sdp": 1}']:
        await sme.send_to(text_data=text)
        error = await receive(sme)
        assert error["type"] == "error" and error["message"]
    await sme.send_to(bytes_data=b"\x00\x01")
    assert (await receive(sme))["code"] == "not_text"
    assert await client.receive_nothing(timeout=0.2)
    await sme.send_to(text_data='{"type": "bye"}')
    assert await receive(client) == {"type": "bye"}
    await close_all(sme, client)


async def test_frame_over_the_size_limit_is_refused_and_not_relayed(room):
    sme, client = await join_both(room)
    await sme.send_to(text_data=json.dumps({"type": "offer", "sdp": "x" * (64 * 1024)}))
    error = await receive(sme)
    assert error["code"] == "too_large" and "64 KiB" in error["message"]
    assert await client.receive_nothing(timeout=0.2)
    await close_all(sme, client)


async def test_a_socket_sending_too_fast_is_slowed_then_closed(room, settings):
    settings.SIGNALING_RATE_BURST, settings.SIGNALING_RATE_PER_SECOND, settings.SIGNALING_MAX_STRIKES = 5, 1, 3
    sme, client = await join_both(room)
    for _ in range(5):
        await sme.send_to(text_data='{"type": "restart"}')
    for _ in range(5):
        assert await receive(client) == {"type": "restart"}
    await sme.send_to(text_data='{"type": "restart"}')
    error = await receive(sme)
    assert error["code"] == "too_fast" and error["message"]
    await sme.send_to(text_data='{"type": "restart"}')
    await sme.send_to(text_data='{"type": "restart"}')
    await expect_close(sme, 4008)
    await sme.disconnect()  # the browser's side of the closing handshake
    assert (await receive(client))["type"] == "peer-left"
    await close_all(client)


async def test_a_socket_that_keeps_sending_bad_frames_is_closed(room, settings):
    settings.SIGNALING_MAX_STRIKES = 3
    sme, client = await join_both(room)
    for _ in range(3):
        await sme.send_to(text_data="garbage")
    await expect_close(sme, 4009)
    await close_all(client)


# --- Control: extensions and the end ---


async def test_sme_proposes_more_time_and_the_client_accepts(room):
    consultation = room[0]
    sme, client = await join_both(room)
    await client.send_to(text_data=json.dumps({"type": "extend-propose", "minutes": 10}))
    assert (await receive(client))["code"] == "not_sme"
    await sme.send_to(text_data=json.dumps({"type": "extend-propose", "minutes": 10}))
    for side in (sme, client):
        assert await receive(side) == {"type": "extension", "state": "proposed", "minutes": 10}
    await client.send_to(text_data=json.dumps({"type": "extend-answer", "accept": True}))
    for side in (sme, client):
        assert await receive(side) == {"type": "extension", "state": "accepted", "minutes": 10}
        timer = await receive(side)
        assert timer["type"] == "timer" and timer["total_minutes"] == 40 and timer["extension_minutes"] == 10
    saved = await database_sync_to_async(Consultation.objects.get)(pk=consultation.pk)
    assert saved.total_minutes == 40
    await close_all(sme, client)


async def test_client_declines_and_the_time_stays(room):
    sme, client = await join_both(room)
    await sme.send_to(text_data=json.dumps({"type": "extend-propose", "minutes": 15}))
    await receive(sme), await receive(client)
    await client.send_to(text_data=json.dumps({"type": "extend-answer", "accept": False}))
    assert (await receive(sme))["state"] == "declined"
    assert (await receive(client))["state"] == "declined"
    assert (await receive(sme))["total_minutes"] == 30
    await close_all(sme, client)


async def test_only_the_sme_ends_the_consultation_and_both_are_told(room):
    consultation = room[0]
    sme, client = await join_both(room)
    await client.send_to(text_data='{"type": "end"}')
    assert (await receive(client))["code"] == "not_sme"
    await sme.send_to(text_data='{"type": "end"}')
    for side in (sme, client):
        ended = await receive(side)
        assert ended["type"] == "ended" and ended["message"]
        await expect_close(side, 4010)
    saved = await database_sync_to_async(Consultation.objects.get)(pk=consultation.pk)
    assert saved.state == Consultation.State.COMPLETED
    rejoin = await open_socket(consultation.token, room[1])
    assert (await receive(rejoin))["code"] == "closed"


# --- Privacy ---


async def test_no_payload_reaches_the_database_or_the_logs(room, caplog, settings):
    settings.DEBUG = True  # so every SQL statement, with its parameters, is logged too
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django")  # Django's own loggers stop at INFO otherwise
    marker = "SECRET-" + uuid.uuid4().hex
    sme, client = await join_both(room)
    frames = [
        {"type": "offer", "sdp": f"v=0\r\na=ice-ufrag:{marker}\r\nc=IN IP4 192.0.2.7\r\n"},
        {"type": "answer", "sdp": marker},
        {"type": "candidate", "candidate": {"candidate": f"candidate:{marker} 1 udp 1 192.0.2.7 9 typ host"}},
    ]
    for frame in frames:
        await sme.send_to(text_data=json.dumps(frame))
        await receive(client)
    for bad in [json.dumps({"type": "offer", "sdp": marker, marker: 1}), marker, json.dumps({"type": marker})]:
        await client.send_to(text_data=bad)
        await receive(client)
    await sme.send_to(text_data=json.dumps({"type": "offer", "sdp": marker * 3000}))  # too large
    await receive(sme)
    await close_all(sme, client)

    @database_sync_to_async
    def everything_stored() -> str:
        return "".join(serializers.serialize("json", model.objects.all()) for model in apps.get_models())

    stored = await everything_stored()
    assert "Quick question" in stored  # the dump does hold the consultation...
    assert marker not in stored and "192.0.2.7" not in stored  # ...but nothing of the call
    assert "sessions_app_consultation" in caplog.text  # the consumer's own SQL was logged (the watch is on)...
    logged = caplog.text + "".join(str(record.args) for record in caplog.records)
    assert marker not in logged and "192.0.2.7" not in logged  # ...but no payload
