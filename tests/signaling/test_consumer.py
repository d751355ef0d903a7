"""The room's WebSocket, through the real ASGI stack (origin check, session auth), on both channel layers."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import os
import time
import uuid
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.apps import apps
from django.conf import settings as django_settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.core import serializers
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from interkanect.asgi import application
from sessions_app.models import Consultation
from sessions_app.services import consultation_cancel
from signaling.messages import parse_frame
from tests.factories import make_client, make_ready_consultation, make_sme
from tests.signaling.hostile import hostile_message

pytestmark = pytest.mark.django_db(transaction=True)
ORIGIN = b"http://127.0.0.1"


@pytest.fixture(params=["memory", "redis"], autouse=True)
def layer(request, settings):
    """Every test runs on the in-memory layer (one process) and on channels-redis (many processes)."""
    if request.param == "redis":
        if not os.environ.get("REDIS_URL"):
            pytest.skip("REDIS_URL is not set: the channels-redis variant runs in the PostgreSQL + Redis suite.")
        # The project's own Redis configuration (timeouts, capacities), with a prefix of this test's own.
        config = copy.deepcopy(django_settings.CHANNEL_LAYERS["default"])
        config["CONFIG"]["prefix"] = f"test-{uuid.uuid4().hex[:8]}"
        settings.CHANNEL_LAYERS = {"default": config}
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


async def open_socket(
    token: str, cookie: bytes | None, origin: bytes = ORIGIN, address: str = "192.0.2.1", headers=()
) -> WebsocketCommunicator:
    headers = [(b"origin", origin), (b"host", b"127.0.0.1"), *headers]
    if cookie:
        headers.append((b"cookie", cookie))
    communicator = WebsocketCommunicator(application, f"/ws/rooms/{token}/", headers=headers)
    communicator.scope["client"] = (address, 50000)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def receive(communicator: WebsocketCommunicator, timeout: float = 2) -> dict:
    return json.loads(await communicator.receive_from(timeout=timeout))


async def join_both(room, timeout: float = 2):
    consultation, sme_cookie, client_cookie = room
    sme = await open_socket(consultation.token, sme_cookie)
    assert (await receive(sme, timeout))["type"] == "welcome"
    client = await open_socket(consultation.token, client_cookie)
    welcome = await receive(client, timeout)
    assert welcome["type"] == "welcome" and welcome["peer_present"]
    assert (await receive(sme, timeout))["type"] == "peer-joined"
    assert (await receive(sme, timeout))["type"] == "timer"  # the timer starts now, for both
    assert (await receive(client, timeout))["type"] == "timer"
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
        ("logged_out_by_a_password_change", "login", 4401),
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
        elif who == "logged_out_by_a_password_change":
            consultation.sme.set_password("a-new-password-2026")  # every older session is logged out
            consultation.sme.save()
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


async def test_a_failure_writing_to_one_member_ends_only_that_members_connection(room, monkeypatch):
    """A relayed frame is written by the sender's task (see deliver): the receiver's failure there ends the
    receiver's connection, never the sender's, who is told the other person left and can go on."""
    from signaling.consumers import RoomConsumer

    sme, client = await join_both(room)
    relay = RoomConsumer.room_relay

    async def failing_for_the_sme(consumer, event):
        if consumer.role == "sme":
            raise RuntimeError("the SME's socket failed")
        await relay(consumer, event)

    monkeypatch.setattr(RoomConsumer, "room_relay", failing_for_the_sme)
    await client.send_to(text_data=json.dumps({"type": "restart"}))
    with pytest.raises(RuntimeError):
        await sme.receive_output(timeout=2)
    assert (await receive(client))["type"] == "peer-left"
    monkeypatch.setattr(RoomConsumer, "room_relay", relay)
    await client.send_to(text_data=json.dumps({"type": "restart"}))  # still connected: nobody to relay to
    assert await client.receive_nothing(timeout=0.2)
    await close_all(client)


async def test_relay_makes_no_database_query(room, monkeypatch):
    from django.db.backends.utils import CursorWrapper

    sme, client = await join_both(room)
    # Every query of the process, in whichever thread it runs.
    seen: list[str] = []
    execute = CursorWrapper._execute_with_wrappers

    def watched(cursor, sql, *args, **kwargs):
        seen.append(sql)
        return execute(cursor, sql, *args, **kwargs)

    monkeypatch.setattr(CursorWrapper, "_execute_with_wrappers", watched)
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
    await database_sync_to_async(Consultation.objects.filter(pk=consultation.pk).update)(
        client_channel=stale,
        client_seen_at=timezone.now(),  # it died a moment ago
    )
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


async def test_a_quiet_room_stays_connected(room, layer):
    """Nobody sends anything for 20 s (reading, thinking): no socket drops, and the relay still works."""
    if layer != "redis":
        pytest.skip("The idle drop came from redis-py's socket timeout; the in-memory layer has none.")
    sme, client = await join_both(room)
    await asyncio.sleep(20)
    for side in (sme, client):
        assert await side.receive_nothing(timeout=0.1)  # raises if the consumer died meanwhile
    await sme.send_to(text_data='{"type": "restart"}')
    assert await receive(client) == {"type": "restart"}
    await client.send_to(text_data='{"type": "restart"}')
    assert await receive(sme) == {"type": "restart"}
    await close_all(sme, client)


async def test_a_burst_of_calls_setting_up_at_once_is_relayed_whole(settings, layer):
    """Five rooms on one process set up calls at once: each member trickles its ICE candidates in one burst.

    Every consumer of a process shares one inbox on Redis; it must hold such a burst (channels-redis's
    default of 100 did not, and the first full inbox closed every socket)."""
    rooms = []
    for _ in range(5):
        consultation = await database_sync_to_async(make_ready_consultation)()
        cookies = await database_sync_to_async(
            lambda c=consultation: (session_cookie(c.sme), session_cookie(c.client))
        )()
        rooms.append(await join_both((consultation, *cookies)))
    burst = settings.SIGNALING_RATE_BURST

    async def trickle(sender, n):
        for i in range(burst):
            await sender.send_to(text_data=candidate_frame(f"{n}-{i}"))

    async def collect(receiver):
        return [json.loads(await receiver.receive_from(timeout=20)) for _ in range(burst)]

    senders = [trickle(side, n) for n, pair in enumerate(rooms) for side in pair]
    receivers = [collect(side) for pair in rooms for side in pair[::-1]]
    results = await asyncio.gather(*senders, *receivers)
    received = results[len(senders) :]
    for n, frames in enumerate(received):
        room_number = n // 2
        assert [f["candidate"]["candidate"] for f in frames] == [
            json.loads(candidate_frame(f"{room_number}-{i}"))["candidate"]["candidate"] for i in range(burst)
        ]
    for pair in rooms:
        for side in pair:
            assert await side.receive_nothing(timeout=0.05)
    await close_all(*[side for pair in rooms for side in pair])


def candidate_frame(tag: str) -> str:
    line = f"candidate:{tag} 1 udp 2122260223 192.0.2.9 50000 typ host"
    return json.dumps({"type": "candidate", "candidate": {"candidate": line, "sdpMid": "0", "sdpMLineIndex": 0}})


# --- A member who vanishes: a crash, a dead server process ---


async def test_a_frame_that_used_to_crash_the_consumer_gets_an_error_and_the_room_goes_on(room):
    sme, client = await join_both(room)
    for text in ["[" * 5000, '{"type": "offer", "sdp": "\\ud800"}', '{"type": "extend-propose", "minutes": 1e999}']:
        await sme.send_to(text_data=text)
        error = await receive(sme)
        assert error["type"] == "error" and error["message"]
    await sme.send_to(text_data='{"type": "bye"}')
    assert await receive(client) == {"type": "bye"}
    await close_all(sme, client)


async def test_a_consumer_that_crashes_clears_its_presence_and_the_peer_is_told(room):
    """An exception in a handler ends the connection; the room must not keep a ghost of it.

    The crash here: an event this process has no handler for (as a newer server would send during a
    rolling deploy)."""
    from sessions_app.services import consultations_complete_due

    consultation = room[0]
    sme, client = await join_both(room)
    saved = await database_sync_to_async(Consultation.objects.get)(pk=consultation.pk)
    await get_channel_layer().send(saved.sme_channel, {"type": "room.from_the_future"})
    with pytest.raises(ValueError, match="No handler"):
        await sme.receive_output(timeout=3)
    assert (await receive(client))["type"] == "peer-left"
    saved = await database_sync_to_async(Consultation.objects.get)(pk=consultation.pk)
    assert saved.sme_channel == "" and saved.state == Consultation.State.LIVE
    # The client leaves too: the room is empty, and housekeeping completes it once the time is up.
    await client.disconnect()
    two_hours_later = timezone.now() + timedelta(hours=2)
    assert await database_sync_to_async(consultations_complete_due)(now=two_hours_later) == 1
    await close_all()


async def join_with_a_dead_peer(room, layer):
    """The SME is in the room with a client whose server process was killed: its channel is read by nobody."""
    consultation, sme_cookie, _ = room
    sme = await open_socket(consultation.token, sme_cookie)
    assert (await receive(sme))["type"] == "welcome"
    dead = f"specific.{uuid.uuid4().hex}!{uuid.uuid4().hex[:12]}"  # another process's inbox: nobody reads it
    await database_sync_to_async(Consultation.objects.filter(pk=consultation.pk).update)(
        client_channel=dead, client_seen_at=timezone.now()
    )
    saved = await database_sync_to_async(Consultation.objects.get)(pk=consultation.pk)
    await get_channel_layer().send(saved.sme_channel, {"type": "room.peer_joined", "channel": dead})
    assert (await receive(sme))["type"] == "peer-joined"
    return sme


async def test_a_peer_on_a_dead_process_is_reported_gone_while_the_other_keeps_sending(room, layer, settings):
    settings.SIGNALING_RATE_BURST, settings.SIGNALING_RATE_PER_SECOND = 1000, 1000
    consultation = room[0]
    sme = await join_with_a_dead_peer(room, layer)
    started = time.monotonic()
    frames = []
    # The SME's page keeps sending (ICE candidates, restarts) to a peer that will never read them.
    for n in range(150):
        await sme.send_to(text_data=candidate_frame(str(n)))
        frames += [await receive(sme, timeout=0.5)] if not await sme.receive_nothing(timeout=0.01) else []
    while not frames:
        frames.append(await receive(sme, timeout=settings.SIGNALING_PEER_TIMEOUT_SECONDS + 3))
    assert frames == [{"type": "peer-left"}]  # and no close: the SME's socket lives on
    assert time.monotonic() - started < settings.SIGNALING_PEER_TIMEOUT_SECONDS + 3
    saved = await database_sync_to_async(Consultation.objects.get)(pk=consultation.pk)
    assert saved.client_channel == ""
    # The client comes back (on a live process) and the call goes on.
    client = await open_socket(consultation.token, room[2])
    assert (await receive(client))["peer_present"] is True
    assert (await receive(sme))["type"] == "peer-joined"
    await sme.send_to(text_data='{"type": "restart"}')
    assert (await receive(client))["type"] == "timer"
    assert await receive(client) == {"type": "restart"}
    await close_all(sme, client)


async def test_a_silent_peer_is_reported_gone_within_seconds_without_any_join(room, layer, settings):
    """Nobody sends anything and nobody joins: the heartbeat alone finds that the peer's process died."""
    settings.SIGNALING_HEARTBEAT_SECONDS, settings.SIGNALING_PEER_TIMEOUT_SECONDS = 0.3, 1
    consultation = room[0]
    sme = await join_with_a_dead_peer(room, layer)
    assert (await receive(sme, timeout=4))["type"] == "peer-left"
    saved = await database_sync_to_async(Consultation.objects.get)(pk=consultation.pk)
    assert saved.client_channel == ""
    await close_all(sme)


async def test_a_member_reported_gone_by_mistake_rejoins(room, layer, settings):
    """If the other side's server wrongly reported this member gone, this connection is told to rejoin."""
    settings.SIGNALING_HEARTBEAT_SECONDS = 0.2
    consultation = room[0]
    sme, client = await join_both(room)
    saved = await database_sync_to_async(Consultation.objects.get)(pk=consultation.pk)
    await get_channel_layer().send(saved.client_channel, {"type": "room.dropped"})
    await expect_close(client, 4012)
    await close_all(sme, client)


async def test_presence_is_refreshed_for_the_whole_process_and_a_forgotten_member_rejoins(room, layer, settings):
    """The process refreshes its connections' presence together; one whose record was cleared (the other
    member's server reported it gone) is told to rejoin, while the other stays."""
    settings.SIGNALING_HEARTBEAT_SECONDS, settings.SIGNALING_PRESENCE_REFRESH_SECONDS = 0.2, 0.5
    consultation = room[0]
    sme, client = await join_both(room)
    long_ago = timezone.now() - timedelta(minutes=10)
    await database_sync_to_async(Consultation.objects.filter(pk=consultation.pk).update)(
        client_channel="", sme_seen_at=long_ago
    )
    await expect_close(client, 4012)
    saved = await database_sync_to_async(Consultation.objects.get)(pk=consultation.pk)
    assert saved.sme_channel and saved.sme_seen_at > long_ago  # refreshed, and still connected
    await close_all(sme, client)


# --- Joins: limited per member and per address ---


async def test_too_many_joins_by_one_member_are_refused_with_a_reason(room, settings):
    settings.SIGNALING_JOINS_PER_MEMBER = 3
    consultation, sme_cookie, client_cookie = room
    for _ in range(3):
        socket = await open_socket(consultation.token, sme_cookie)
        assert (await receive(socket))["type"] == "welcome"
        await socket.disconnect()
    refused = await open_socket(consultation.token, sme_cookie)
    error = await receive(refused)
    assert error["type"] == "error" and error["code"] == "too_many_joins" and "Too many" in error["message"]
    output = await refused.receive_output(timeout=2)
    assert output["type"] == "websocket.close" and output["code"] == 4029 and output["reason"]
    # The other member is not affected.
    client = await open_socket(consultation.token, client_cookie)
    assert (await receive(client))["type"] == "welcome"
    await close_all(client)


async def test_too_many_joins_from_one_address_are_refused_and_others_still_join(room, settings):
    settings.SIGNALING_JOINS_PER_ADDRESS = 2
    consultation, sme_cookie, client_cookie = room
    for cookie in (None, None):  # anonymous attempts count too
        socket = await open_socket(consultation.token, cookie, address="198.51.100.7")
        assert (await receive(socket))["code"] == "login"
    refused = await open_socket(consultation.token, sme_cookie, address="198.51.100.7")
    assert (await receive(refused))["code"] == "too_many_joins"
    sme = await open_socket(consultation.token, sme_cookie, address="198.51.100.8")
    assert (await receive(sme))["type"] == "welcome"
    await close_all(sme)


async def test_behind_a_trusted_proxy_the_forwarded_address_is_counted(room, settings):
    settings.SIGNALING_JOINS_PER_ADDRESS = 1
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    consultation, sme_cookie, client_cookie = room
    proxy = "10.0.0.2"  # every connection comes from the proxy; the header says who is behind it
    first = await open_socket(
        consultation.token, sme_cookie, address=proxy, headers=[(b"x-forwarded-for", b"203.0.113.1")]
    )
    assert (await receive(first))["type"] == "welcome"
    second = await open_socket(
        consultation.token, client_cookie, address=proxy, headers=[(b"x-forwarded-for", b"6.6.6.6, 203.0.113.2")]
    )
    assert (await receive(second))["type"] == "welcome"
    again = await open_socket(
        consultation.token, client_cookie, address=proxy, headers=[(b"x-forwarded-for", b"203.0.113.2")]
    )
    assert (await receive(again))["code"] == "too_many_joins"
    # A proxy that sets a header of its own instead.
    settings.ALLAUTH_TRUSTED_PROXY_COUNT, settings.ALLAUTH_TRUSTED_CLIENT_IP_HEADER = 0, "X-Real-IP"
    third = await open_socket(
        consultation.token, client_cookie, address=proxy, headers=[(b"x-real-ip", b"203.0.113.3")]
    )
    assert (await receive(third))["type"] == "welcome"
    await close_all(first, second, third)


# --- Hostile input: any sequence of messages gets error frames or a close; the server and other rooms go on ---


@hypothesis_settings(
    max_examples=int(os.environ.get("HOSTILE_EXAMPLES", "8")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(messages=st.lists(hostile_message, min_size=1, max_size=20), flood=st.integers(min_value=0, max_value=90))
def test_hostile_messages_get_an_error_or_a_close_and_another_room_keeps_relaying(layer, settings, messages, flood):
    settings.SIGNALING_JOINS_PER_ADDRESS = settings.SIGNALING_JOINS_PER_MEMBER = 10**6  # many examples, one address
    # Liveness has tests of its own; here a slow example (the machine busy) must not count as a vanished peer.
    settings.SIGNALING_PEER_REPLY_SECONDS = settings.SIGNALING_PEER_TIMEOUT_SECONDS = 60
    # A fresh layer for this example's event loop (channels-redis keeps locks bound to the loop that made them).
    fresh = copy.deepcopy(django_settings.CHANNEL_LAYERS["default"])
    if "CONFIG" in fresh:
        fresh["CONFIG"]["prefix"] = f"test-{uuid.uuid4().hex[:8]}"
    settings.CHANNEL_LAYERS = {"default": fresh}
    consultations = [make_ready_consultation(minutes=30) for _ in range(2)]
    hostile, other = [(c, session_cookie(c.sme), session_cookie(c.client)) for c in consultations]

    async def scenario():
        victim, attacker = await join_both(hostile, timeout=10)  # the client attacks: it may not end or extend
        other_sme, other_client = await join_both(other, timeout=10)
        for message in [*messages, *['{"type": "restart"}'] * flood]:
            kind = "bytes" if isinstance(message, bytes) else "text"
            await attacker.send_input({"type": "websocket.receive", kind: message})
        # The attacker hears only error frames, then perhaps a close for too many of them or too fast.
        closed = False
        while not await attacker.receive_nothing(timeout=0.2):
            output = await attacker.receive_output(timeout=1)
            if output["type"] == "websocket.close":
                assert output["code"] in (4008, 4009) and output["reason"]
                closed = True
                break
            frame = json.loads(output["text"])
            assert frame["type"] == "error" and frame["code"] and frame["message"], frame
        if closed:
            await attacker.disconnect()
        # The other member receives only well-formed frames of the closed set (or hears the attacker left).
        while not await victim.receive_nothing(timeout=0.2):
            text = await victim.receive_from(timeout=1)
            if json.loads(text)["type"] == "peer-left":
                assert closed
                continue
            assert parse_frame(text).relayed
        # Another room on the same process relays as before.
        await other_sme.send_to(text_data='{"type": "restart"}')
        assert await receive(other_client, timeout=10) == {"type": "restart"}
        await other_client.send_to(text_data='{"type": "bye"}')
        assert await receive(other_sme, timeout=10) == {"type": "bye"}
        await close_all(victim, other_sme, other_client, *([] if closed else [attacker]))

    # One event loop per example (the test itself is synchronous, as hypothesis drives it).
    asyncio.run(scenario())


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
