"""The room's WebSocket: admits the two members, relays their signaling to each other, sends presence and timer.

Admission is one database call (room_enter). The relay path touches no database: each consumer keeps the other
member's channel name in memory, learnt at connect time and kept current by the peer's own join/leave events.
Nothing received is ever logged or stored; only the closed set of validated fields is forwarded.
"""

from __future__ import annotations

import asyncio
import time

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from sessions_app.selectors import room_timer_state
from sessions_app.services import (
    ConsultationError,
    consultation_complete,
    consultation_extension_answer,
    consultation_extension_propose,
    room_member_disconnect,
)

from .messages import (
    CLOSE_ENDED,
    CLOSE_REFUSED,
    CLOSE_REPLACED,
    CLOSE_TOO_FAST,
    CLOSE_TOO_MANY_ERRORS,
    Frame,
    FrameError,
    error_frame,
    parse_frame,
    server_frame,
)
from .services import room_enter, room_go_live
from .turn import ice_servers


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
        self.joined = False
        self.replaced = False
        self.peer_channel = ""
        self.peer_check: asyncio.Task | None = None
        self.strikes = 0
        self.bucket = TokenBucket(rate=settings.SIGNALING_RATE_PER_SECOND, burst=settings.SIGNALING_RATE_BURST)
        token = self.scope["url_route"]["kwargs"]["token"]
        entry = await database_sync_to_async(room_enter)(token=token, user=self.user, channel_name=self.channel_name)
        admission = entry.admission
        # Set before accept(): a socket gone during the handshake still leaves the room in disconnect().
        self.consultation, self.role, self.joined = admission.consultation, admission.role, entry.join is not None
        # Accept first, even to refuse: a refusal before the handshake reaches the page as a bare 1006,
        # while an error frame and a close code with a reason let the page say what happened.
        await self.accept()
        if not admission.allowed:
            await self.send(error_frame(admission.code, admission.reason))
            await self.close(code=CLOSE_REFUSED.get(admission.code, 4403), reason=_close_reason(admission.reason))
            return
        join, timer = entry.join, entry.timer
        self.peer_channel = join.peer_channel
        if join.replaced_channel:
            await self.channel_layer.send(join.replaced_channel, {"type": "room.replaced"})
        if self.peer_channel:
            await self.channel_layer.send(self.peer_channel, {"type": "room.peer_joined", "channel": self.channel_name})
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
        if self.joined and self.peer_channel == channel:
            self.peer_channel = ""
            peer = self.consultation.client if self.role == "sme" else self.consultation.sme
            await database_sync_to_async(room_member_disconnect)(
                consultation=self.consultation, user=peer, channel_name=channel
            )
            await self.send(server_frame("peer-left"))

    async def disconnect(self, code: int) -> None:
        if not self.joined:
            return
        self.joined = False
        if self.peer_check:
            self.peer_check.cancel()
        await database_sync_to_async(room_member_disconnect)(
            consultation=self.consultation, user=self.user, channel_name=self.channel_name
        )
        # A replaced tab says nothing: its successor already told the peer it joined.
        if self.peer_channel and not self.replaced:
            await self.channel_layer.send(self.peer_channel, {"type": "room.peer_left", "channel": self.channel_name})

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
            if self.peer_channel:
                await self.channel_layer.send(
                    self.peer_channel, {"type": "room.relay", "sender": self.channel_name, "text": frame.encode()}
                )
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
                if self.peer_channel:
                    await self.channel_layer.send(self.peer_channel, {"type": "room.ended"})
                await self.room_ended({})
        except ConsultationError as error:
            await self.send(error_frame(error.code, error.message))

    async def _to_peer(self, text: str) -> None:
        if self.peer_channel:
            await self.channel_layer.send(self.peer_channel, {"type": "room.server_frame", "text": text})

    async def _to_both(self, text: str) -> None:
        await self.send(text)
        await self._to_peer(text)

    # --- Events from the channel layer (sent by the other member's consumer, or a newer tab). ---

    async def room_relay(self, event: dict) -> None:
        # Only from the member we currently know; a stale tab's last frames are dropped.
        if event["sender"] == self.peer_channel:
            await self.send(event["text"])

    async def room_server_frame(self, event: dict) -> None:
        await self.send(event["text"])

    async def room_peer_joined(self, event: dict) -> None:
        self.peer_channel = event["channel"]
        await self.channel_layer.send(self.peer_channel, {"type": "room.peer_here", "channel": self.channel_name})
        await self.send(server_frame("peer-joined"))

    async def room_peer_here(self, event: dict) -> None:
        """The member we found in the room answered: both are connected, so the timer starts (once)."""
        if event["channel"] != self.peer_channel:
            return
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
