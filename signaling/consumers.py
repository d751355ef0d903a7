"""The room's WebSocket: admits the two members, relays their signaling to each other, sends presence and timer.

Admission is one database call (room_enter). The relay path touches no database: each consumer keeps the other
member's channel name in memory, learnt at connect time and kept current by the peer's own join/leave events.
Nothing received is ever logged or stored; only the closed set of validated fields is forwarded.

A member can vanish without a goodbye (its server process killed, its machine lost): the two connections
ping each other, and one whose inbox is full or that stays silent is reported gone. However a consumer ends,
even by an exception, its presence is cleared and its peer told (see __call__).
"""

from __future__ import annotations

import asyncio
import logging
import time

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import ChannelFull
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from sessions_app.selectors import room_timer_state
from sessions_app.services import (
    ConsultationError,
    consultation_complete,
    consultation_extension_answer,
    consultation_extension_propose,
    room_member_disconnect,
    room_member_seen,
)

from .limits import client_address, join_refusal
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
from .services import room_enter, room_go_live
from .turn import ice_servers

logger = logging.getLogger(__name__)


class TokenBucket:
    """Allows `burst` frames at once and `rate` a second after that."""

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


def _close_reason(text: str) -> str:
    # A WebSocket close reason is at most 123 bytes.
    encoded = text.encode()[:123]
    return encoded.decode(errors="ignore")


class RoomConsumer(AsyncWebsocketConsumer):
    # Class defaults, so the cleanup in __call__ works however early the consumer ends.
    joined = False
    replaced = False
    peer_channel = ""
    peer_check: asyncio.Task | None = None
    heartbeat: asyncio.Task | None = None

    async def __call__(self, scope, receive, send) -> None:
        """However the consumer ends (a close, an exception in a handler, the channel layer failing), its
        presence is cleared and the peer told, so neither the peer nor housekeeping waits for a ghost."""
        try:
            await super().__call__(scope, receive, send)
        finally:
            try:
                await self._leave()
            except Exception:  # the database or Redis is down too: the presence expires by itself
                logger.warning("Leaving the room after the connection ended failed.", exc_info=True)

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
        self.user = self.scope["user"]
        self.strikes = 0
        self.bucket = TokenBucket(rate=settings.SIGNALING_RATE_PER_SECOND, burst=settings.SIGNALING_RATE_BURST)
        user_id = self.user.pk if self.user.is_authenticated else None
        refusal = await join_refusal(user_id=user_id, address=client_address(self.scope))
        token = self.scope["url_route"]["kwargs"]["token"]
        if refusal:
            entry = admission = None
        else:
            entry = await database_sync_to_async(room_enter)(
                token=token, user=self.user, channel_name=self.channel_name
            )
            admission = entry.admission
            # Set before accept(): a socket gone during the handshake still leaves the room (see __call__).
            self.consultation, self.role = admission.consultation, admission.role
            self.joined = entry.join is not None
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
        self.heartbeat = asyncio.create_task(self._heartbeat())
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

    async def _heartbeat(self) -> None:
        """Ping the other member's connection, report it gone once silent, and keep our own presence fresh."""
        refreshed = time.monotonic()
        while self.joined:
            await asyncio.sleep(settings.SIGNALING_HEARTBEAT_SECONDS)
            try:
                if self.peer_channel:
                    if time.monotonic() - self.peer_heard_at > settings.SIGNALING_PEER_TIMEOUT_SECONDS:
                        await self._peer_gone(self.peer_channel)
                    else:
                        await self._to_peer({"type": "room.ping", "channel": self.channel_name})
                if time.monotonic() - refreshed >= settings.SIGNALING_PRESENCE_REFRESH_SECONDS:
                    refreshed = time.monotonic()
                    still_here = await database_sync_to_async(room_member_seen)(
                        consultation=self.consultation, user=self.user, channel_name=self.channel_name
                    )
                    if not still_here and not self.replaced:
                        # The other member's server reported us gone: rejoining puts us back in the room.
                        await self.close(code=CLOSE_RECONNECT, reason="Reconnecting to the room.")
                        return
            except Exception:  # Redis or the database failing for a moment: try again on the next beat
                logger.warning("The room's heartbeat failed.", exc_info=True)

    async def _peer_gone(self, channel: str) -> None:
        """The other member's connection vanished without a goodbye (its process died, its inbox is full):
        forget it, clear its presence and tell the page. Should it be alive after all, it is told to rejoin."""
        if not self.joined or channel != self.peer_channel:
            return
        self.peer_channel = ""
        peer = self.consultation.client if self.role == "sme" else self.consultation.sme
        await database_sync_to_async(room_member_disconnect)(
            consultation=self.consultation, user=peer, channel_name=channel
        )
        await self._send_event(channel, {"type": "room.dropped"})
        await self.send(server_frame("peer-left"))

    async def _leave(self) -> None:
        if not self.joined:
            return
        self.joined = False
        for task in (self.peer_check, self.heartbeat):
            if task and task is not asyncio.current_task():
                task.cancel()
        await database_sync_to_async(room_member_disconnect)(
            consultation=self.consultation, user=self.user, channel_name=self.channel_name
        )
        # A replaced tab says nothing: its successor already told the peer it joined.
        if self.peer_channel and not self.replaced:
            await self._send_event(self.peer_channel, {"type": "room.peer_left", "channel": self.channel_name})

    async def disconnect(self, code: int) -> None:
        await self._leave()

    async def _send_event(self, channel: str, event: dict) -> bool:
        """Send to another connection's channel; False when its inbox is full (nobody is reading it)."""
        try:
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
        try:
            if frame.type == "extend-propose":
                extension = await database_sync_to_async(consultation_extension_propose)(
                    consultation=self.consultation, sme=self.user, minutes=frame.fields["minutes"]
                )
                await self._to_both(server_frame("extension", state="proposed", minutes=extension.minutes))
            elif frame.type == "extend-answer":
                extension = await database_sync_to_async(consultation_extension_answer)(
                    consultation=self.consultation, client=self.user, accept=frame.fields["accept"]
                )
                await self._to_both(server_frame("extension", state=extension.state, minutes=extension.minutes))
                timer = await database_sync_to_async(room_timer_state)(consultation_id=self.consultation.pk)
                await self._to_both(server_frame("timer", **timer))
            elif frame.type == "end":
                done = await database_sync_to_async(consultation_complete)(
                    consultation=self.consultation, actor=self.user
                )
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
        timer = await database_sync_to_async(room_go_live)(consultation=self.consultation)
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
