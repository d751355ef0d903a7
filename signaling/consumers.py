"""The room's WebSocket: admits the two members, relays their signaling to each other, sends presence and timer.

Admission is one database call (room_enter: the session, the join limits, the room's rule, the presence).
The relay path touches no database: each consumer keeps the other member's channel name in memory, learnt at
connect time and kept current by the peer's own join/leave events. Nothing received is ever logged or stored;
only the closed set of validated fields is forwarded.

Both members of a room are normally in the same process (nginx hashes the room's URL), so an event for a
connection of this process is handed over in memory (LOCAL_CONNECTIONS, deliver); the channel layer carries
only what crosses processes. Each connection handles one event at a time, whoever delivers it (`turn`).

A member can vanish without a goodbye (its server process killed, its machine lost): a connection pings a
peer in another process, and one whose inbox is full or that stays silent is reported gone. However a
consumer ends, even by an exception, its presence is cleared and its peer told (see __call__).
"""

from __future__ import annotations

import asyncio
import logging
import time

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import ChannelFull, StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings

from sessions_app.selectors import room_timer_state
from sessions_app.services import (
    ConsultationError,
    consultation_complete,
    consultation_extension_answer,
    consultation_extension_propose,
    room_member_left,
    room_members_seen,
)

from .identity import client_address, session_key
from .messages import (
    CLOSE_ENDED,
    CLOSE_RECONNECT,
    CLOSE_REFUSED,
    CLOSE_REPLACED,
    CLOSE_TOO_FAST,
    CLOSE_TOO_MANY_ERRORS,
    CLOSE_TOO_MANY_JOINS,
    Frame,
    FrameError,
    error_frame,
    parse_frame,
    server_frame,
)
from .services import room_enter, room_go_live, room_member_act
from .turn import ice_servers

logger = logging.getLogger(__name__)

# This process's room connections by channel name. An event for one of them is handed over in memory,
# never through the channel layer: nginx sends both members of a room to the same process, so this is
# nearly every event, and the channel layer carries only what crosses processes.
LOCAL_CONNECTIONS: dict[str, RoomConsumer] = {}
# Events that only write to the receiver's socket: when nothing is waiting ahead of them, the sender
# handles them at once, in its own task (a relayed frame then costs what a bare relay's does).
IMMEDIATE_EVENTS = frozenset({"room.relay", "room.ping", "room.server_frame"})


class TokenBucket:
    """Allows `burst` frames at once and `rate` a second after that."""

    __slots__ = ("rate", "burst", "tokens", "stamp")  # one per connection

    def __init__(self, *, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self.tokens = float(burst)
        self.stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


_heartbeat: asyncio.Task | None = None


def start_heartbeat() -> None:
    """The process's heartbeat runs while anyone is in a room here (one task for every connection)."""
    global _heartbeat
    loop = asyncio.get_running_loop()
    if _heartbeat is None or _heartbeat.done() or _heartbeat.get_loop() is not loop:
        _heartbeat = loop.create_task(_beat(), name="room heartbeat")


async def _beat() -> None:
    """Every SIGNALING_HEARTBEAT_SECONDS each connection pings its peer in another process (see beat);
    every SIGNALING_PRESENCE_REFRESH_SECONDS the presence of all of this process's connections is
    refreshed in one call, and a connection no longer recorded (the other member's server reported it
    gone) is told to rejoin."""
    refreshed = time.monotonic()
    while True:
        await asyncio.sleep(settings.SIGNALING_HEARTBEAT_SECONDS)
        joined = [consumer for consumer in LOCAL_CONNECTIONS.values() if consumer.joined]
        if not joined:
            return  # the next join starts it again
        # Each connection on its own: one that is stuck (ChannelFull) or whose Redis send fails must not
        # cost the others their pings or the presence refresh.
        for consumer in joined:
            try:
                await consumer.beat()
            except Exception:  # Redis failing for a moment: try again on the next beat
                logger.warning("A room connection's heartbeat failed.", exc_info=True)
        if time.monotonic() - refreshed < settings.SIGNALING_PRESENCE_REFRESH_SECONDS:
            continue
        refreshed = time.monotonic()
        try:
            names = [consumer.channel_name for consumer in joined]
            recorded = await database_sync_to_async(room_members_seen)(channel_names=names)
        except Exception:  # the database failing for a moment: try again on the next refresh
            logger.warning("Refreshing the rooms' presence failed.", exc_info=True)
            continue
        for consumer in joined:
            if consumer.joined and not consumer.replaced and consumer.channel_name not in recorded:
                try:
                    await consumer.deliver({"type": "room.dropped"})
                except ChannelFull:
                    logger.warning("A room connection that must rejoin is stuck: it is told at the next refresh.")


def _close_reason(text: str) -> str:
    # A WebSocket close reason is at most 123 bytes.
    encoded = text.encode()[:123]
    return encoded.decode(errors="ignore")


class RoomConsumer(AsyncWebsocketConsumer):
    """One member's connection to a room. It keeps ids, not model instances (see signaling/services.py)."""

    # Class defaults, so the cleanup in __call__ works however early the consumer ends.
    joined = False
    replaced = False
    peer_channel = ""
    peer_check: asyncio.Task | None = None

    async def __call__(self, scope, receive, send) -> None:
        """Channels' AsyncConsumer.__call__, with its dispatch loop replaced (see _run), and a cleanup:
        however the consumer ends (a close, an exception in a handler, the channel layer failing), its
        presence is cleared and the peer told, so neither the peer nor housekeeping waits for a ghost."""
        self.scope, self.base_send = scope, send
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.channel_name = await self.channel_layer.new_channel()
        self.capacity = getattr(self.channel_layer, "capacity", 100)
        self.turn = asyncio.Lock()  # one event at a time, whoever delivers it
        self.task = asyncio.current_task()
        self.failure: BaseException | None = None
        self.queued = 0  # events delivered (see deliver) and not yet handled
        self.handing_over: set[asyncio.Task] = set()
        LOCAL_CONNECTIONS[self.channel_name] = self
        # The app's channel layers hand events from other processes to deliver() as they arrive; another
        # layer (channels-redis's own, compared in benchmarks/relay_load.py) is read by a task.
        attached = hasattr(self.channel_layer, "attach")
        if attached:
            self.channel_layer.attach(self.channel_name, self.deliver)
        reader = None if attached else asyncio.create_task(self._read_channel_layer())
        try:
            await self._run(receive)
        except StopConsumer:
            pass
        finally:
            LOCAL_CONNECTIONS.pop(self.channel_name, None)
            if attached:
                self.channel_layer.detach(self.channel_name)
            tasks = [*self.handing_over, *([reader] if reader else [])]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            try:
                await self._leave()
            except Exception:  # the database or Redis is down too: the presence expires by itself
                logger.warning("Leaving the room after the connection ended failed.", exc_info=True)

    async def _run(self, receive) -> None:
        """The socket's messages, one at a time. Channels' await_many_dispatch creates a task and an
        asyncio.wait() per message to watch the socket and the channel layer at once; here the channel
        layer hands events to deliver(), and both take turns."""
        try:
            while True:
                message = await receive()
                # Counted while waiting for the turn: asyncio.Lock says "unlocked" between a release and the
                # moment the waiter it woke runs, and deliver() must not take that for "nobody is waiting".
                self.queued += 1
                try:
                    await self.turn.acquire()
                finally:
                    self.queued -= 1
                try:
                    await self.dispatch(message)
                finally:
                    self.turn.release()
        except asyncio.CancelledError:
            if self.failure is None:
                raise
            raise self.failure from None

    def _fail(self, error: BaseException) -> None:
        """A handler run outside _run failed: end the consumer with that error, as if _run had raised it."""
        if self.failure is None:
            self.failure = error
            self.task.cancel()

    async def _read_channel_layer(self) -> None:
        """Events from other processes' connections, for a channel layer that cannot attach (see __call__)."""
        while True:
            event = await self.channel_layer.receive(self.channel_name)
            try:
                await self.deliver(event)
            except ChannelFull:
                logger.warning("A room connection cannot take more events (it is stuck): one is dropped.")

    async def deliver(self, event: dict) -> None:
        """An event for this connection, in the order its sender sent it: from another connection of this
        process, or from the channel layer (another process's). Raises ChannelFull when `capacity` events
        are waiting already (this connection is stuck)."""
        if event["type"] in IMMEDIATE_EVENTS and not self.queued and not self.turn.locked():
            try:
                async with self.turn:  # free and nobody waiting for it (see queued), so this does not wait
                    await self.dispatch(event)
            except Exception as error:  # this connection's failure ends this consumer, never the sender
                self._fail(error)
            return
        if self.queued >= self.capacity:
            raise ChannelFull()
        # Anything else, or anything behind it, runs in turn in a task of its own: a handler that waits on
        # the database or fails must not hold up or end the sender.
        self.queued += 1
        task = asyncio.create_task(self._handle_in_turn(event))
        self.handing_over.add(task)
        task.add_done_callback(self.handing_over.discard)

    async def _handle_in_turn(self, event: dict) -> None:
        try:
            async with self.turn:
                self.queued -= 1
                await self.dispatch(event)
        except asyncio.CancelledError:
            raise
        except BaseException as error:
            self._fail(error)

    async def dispatch(self, message: dict) -> None:
        """Channels' dispatch, without its `aclose_old_connections()` before every handler.

        That call is a hop into the one thread-sensitive executor and back, paid twice per relayed frame
        (the sender's receive, the receiver's room_relay) by a path that touches no database. Every ORM
        call here goes through database_sync_to_async, which closes old connections itself, before and after.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        self.strikes = 0
        self.bucket = TokenBucket(rate=settings.SIGNALING_RATE_PER_SECOND, burst=settings.SIGNALING_RATE_BURST)
        entry = await database_sync_to_async(room_enter)(
            token=self.scope["url_route"]["kwargs"]["token"],
            session_key=session_key(self.scope),
            address=client_address(self.scope),
            channel_name=self.channel_name,
        )
        refusal, admission = entry.refusal, entry.admission
        if admission is not None and entry.join is not None:
            # Set before accept(): a socket gone during the handshake still leaves the room (see __call__).
            self.consultation_id, self.user_id, self.role = admission.consultation.pk, entry.user.pk, admission.role
            self.joined = True
        # Accept first, even to refuse: a refusal before the handshake reaches the page as a bare 1006,
        # while an error frame and a close code with a reason let the page say what happened.
        await self.accept()
        if refusal:
            await self.send(error_frame("too_many_joins", refusal))
            await self.close(code=CLOSE_TOO_MANY_JOINS, reason=_close_reason(refusal))
            return
        if not admission.allowed:
            await self.send(error_frame(admission.code, admission.reason))
            await self.close(code=CLOSE_REFUSED.get(admission.code, 4403), reason=_close_reason(admission.reason))
            return
        join, timer = entry.join, entry.timer
        self.peer_channel = join.peer_channel
        self.peer_heard_at = time.monotonic()
        start_heartbeat()
        if join.replaced_channel:
            await self._send_event(join.replaced_channel, {"type": "room.replaced"})
        if self.peer_channel:
            await self._to_peer({"type": "room.peer_joined", "channel": self.channel_name})
        if self.peer_channel:
            # The channel in the database may belong to a server process that died: only a reply proves
            # the other member is really here (and only then does the consultation go live).
            self.peer_check = asyncio.create_task(self._forget_silent_peer(self.peer_channel))
        await self.send(
            server_frame(
                "welcome",
                role=self.role,
                peer_present=bool(self.peer_channel),
                ice_servers=ice_servers(),
                ice_transport_policy=settings.ICE_TRANSPORT_POLICY,
                timer=timer,
            )
        )

    async def _forget_silent_peer(self, channel: str) -> None:
        await asyncio.sleep(settings.SIGNALING_PEER_REPLY_SECONDS)
        self.peer_check = None
        await self._peer_gone(channel)

    async def beat(self) -> None:
        """Ping a peer in another process (one in this process needs none: it cannot die without this one,
        and however its connection ends, it says so); report it gone once silent or its inbox full."""
        channel = self.peer_channel
        if not self.joined or not channel or channel in LOCAL_CONNECTIONS:
            return
        silent = time.monotonic() - self.peer_heard_at > settings.SIGNALING_PEER_TIMEOUT_SECONDS
        if silent or not await self._send_event(channel, {"type": "room.ping", "channel": self.channel_name}):
            await self.deliver({"type": "room.peer_silent", "channel": channel})

    async def _peer_gone(self, channel: str) -> None:
        """The other member's connection vanished without a goodbye (its process died, its inbox is full):
        forget it, clear its presence and tell the page. Should it be alive after all, it is told to rejoin."""
        if not self.joined or channel != self.peer_channel:
            return
        self.peer_channel = ""
        await database_sync_to_async(room_member_left)(
            consultation_id=self.consultation_id, role="client" if self.role == "sme" else "sme", channel_name=channel
        )
        await self._send_event(channel, {"type": "room.dropped"})
        await self.send(server_frame("peer-left"))

    async def _leave(self) -> None:
        if not self.joined:
            return
        self.joined = False
        if self.peer_check and self.peer_check is not asyncio.current_task():
            self.peer_check.cancel()
        await database_sync_to_async(room_member_left)(
            consultation_id=self.consultation_id, role=self.role, channel_name=self.channel_name
        )
        # A replaced tab says nothing: its successor already told the peer it joined.
        if self.peer_channel and not self.replaced:
            await self._send_event(self.peer_channel, {"type": "room.peer_left", "channel": self.channel_name})

    async def disconnect(self, code: int) -> None:
        await self._leave()

    async def _send_event(self, channel: str, event: dict) -> bool:
        """Send to another connection's channel; False when its inbox is full (nobody is reading it)."""
        here = LOCAL_CONNECTIONS.get(channel)
        try:
            if here is not None:
                await here.deliver(event)
            else:
                await self.channel_layer.send(channel, event)
        except ChannelFull:
            return False
        return True

    async def _to_peer(self, event: dict) -> None:
        """Send to the other member's connection; a full inbox means it is gone, never that we crash."""
        channel = self.peer_channel
        if channel and not await self._send_event(channel, event):
            await self._peer_gone(channel)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not self.joined:
            return
        if not self.bucket.take():
            await self._strike("too_fast", "You are sending too fast; wait a moment.", CLOSE_TOO_FAST)
            return
        try:
            frame = parse_frame(text_data, max_bytes=settings.SIGNALING_MAX_FRAME_BYTES)
        except FrameError as error:
            await self._strike(error.code, error.message, CLOSE_TOO_MANY_ERRORS)
            return
        if frame.relayed:
            # Straight to the other member's channel; dropped when they are not connected (they get a
            # fresh offer when they come back).
            await self._to_peer({"type": "room.relay", "sender": self.channel_name, "text": frame.encode()})
            return
        await self._control(frame)

    async def _strike(self, code: str, message: str, close_code: int) -> None:
        self.strikes += 1
        await self.send(error_frame(code, message))
        if self.strikes >= settings.SIGNALING_MAX_STRIKES:
            reason = "Closed after too many refused messages. Reload the page to rejoin."
            await self.close(code=close_code, reason=reason)

    async def _control(self, frame: Frame) -> None:
        """Requests the server acts on: extensions and the end of the consultation, through the services."""
        act = database_sync_to_async(room_member_act)
        member = {"consultation_id": self.consultation_id, "member_id": self.user_id}
        try:
            if frame.type == "extend-propose":
                extension = await act(
                    consultation_extension_propose, **member, member_as="sme", minutes=frame.fields["minutes"]
                )
                await self._to_both(server_frame("extension", state="proposed", minutes=extension.minutes))
            elif frame.type == "extend-answer":
                extension = await act(
                    consultation_extension_answer, **member, member_as="client", accept=frame.fields["accept"]
                )
                await self._to_both(server_frame("extension", state=extension.state, minutes=extension.minutes))
                timer = await database_sync_to_async(room_timer_state)(consultation_id=self.consultation_id)
                await self._to_both(server_frame("timer", **timer))
            elif frame.type == "end":
                done = await act(consultation_complete, **member, member_as="actor")
                if not done:
                    raise ConsultationError(
                        "The consultation can be ended once you have both been connected.", code="not_live"
                    )
                await self._to_peer({"type": "room.ended"})
                await self.room_ended({})
        except ConsultationError as error:
            await self.send(error_frame(error.code, error.message))

    async def _to_both(self, text: str) -> None:
        await self.send(text)
        await self._to_peer({"type": "room.server_frame", "text": text})

    # --- Events from the channel layer (sent by the other member's consumer, or a newer tab). ---

    async def room_relay(self, event: dict) -> None:
        # Only from the member we currently know; a stale tab's last frames are dropped.
        if event["sender"] == self.peer_channel:
            self.peer_heard_at = time.monotonic()
            await self.send(event["text"])

    async def room_ping(self, event: dict) -> None:
        if event["channel"] == self.peer_channel:
            self.peer_heard_at = time.monotonic()

    async def room_peer_silent(self, event: dict) -> None:
        """From this connection's heartbeat (see beat): the peer in another process stopped answering."""
        await self._peer_gone(event["channel"])

    async def room_dropped(self, event: dict) -> None:
        """The other member's server stopped hearing from us and reported us gone: rejoin to be in the room again."""
        await self.close(code=CLOSE_RECONNECT, reason="Reconnecting to the room.")

    async def room_server_frame(self, event: dict) -> None:
        await self.send(event["text"])

    async def room_peer_joined(self, event: dict) -> None:
        self.peer_channel = event["channel"]
        self.peer_heard_at = time.monotonic()
        await self.send(server_frame("peer-joined"))
        await self._to_peer({"type": "room.peer_here", "channel": self.channel_name})

    async def room_peer_here(self, event: dict) -> None:
        """The member we found in the room answered: both are connected, so the timer starts (once)."""
        if event["channel"] != self.peer_channel:
            return
        self.peer_heard_at = time.monotonic()
        if self.peer_check:
            self.peer_check.cancel()
            self.peer_check = None
        timer = await database_sync_to_async(room_go_live)(consultation_id=self.consultation_id)
        if timer is not None:
            await self._to_both(server_frame("timer", **timer))

    async def room_peer_left(self, event: dict) -> None:
        if event["channel"] == self.peer_channel:
            self.peer_channel = ""
            await self.send(server_frame("peer-left"))

    async def room_replaced(self, event: dict) -> None:
        self.replaced = True
        message = "You opened this room in another tab or window; the call continues there."
        await self.send(server_frame("replaced", message=message))
        await self.close(code=CLOSE_REPLACED, reason="Opened in another tab.")

    async def room_ended(self, event: dict) -> None:
        await self.send(server_frame("ended", message="The expert ended the consultation. Thank you!"))
        await self.close(code=CLOSE_ENDED, reason="The consultation has ended.")
