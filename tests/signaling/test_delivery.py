"""How a room connection takes events from others (RoomConsumer.deliver), without sockets or a database."""

from __future__ import annotations

import asyncio

from signaling.consumers import RoomConsumer


def bare_consumer(dispatch) -> RoomConsumer:
    """A RoomConsumer's delivery state alone, with the handlers replaced by `dispatch`."""
    consumer = object.__new__(RoomConsumer)
    consumer.turn, consumer.queued, consumer.capacity = asyncio.Lock(), 0, 100
    consumer.handing_over, consumer.failure, consumer.task = set(), None, asyncio.current_task()
    consumer.dispatch = dispatch
    return consumer


async def test_a_relayed_frame_never_waits_behind_the_receivers_own_socket_message():
    """The sender writes a relayed frame itself only when the receiver is free. asyncio.Lock says "unlocked"
    between a release and the moment the waiter it woke runs: a socket message waiting there (say, a request
    that then waits on the database) must not make the sender wait behind it."""
    release_first, handled = asyncio.Event(), []

    async def dispatch(event):
        handled.append(event["type"])
        if event["type"] == "room.peer_here":
            await release_first.wait()  # holds the turn, as a handler waiting on the database
        elif event["type"] == "websocket.receive":
            await asyncio.sleep(0.5)  # the receiver's own request, slow

    receiver = bare_consumer(dispatch)
    await receiver.deliver({"type": "room.peer_here"})
    await asyncio.sleep(0)  # it now holds the turn
    messages: asyncio.Queue = asyncio.Queue()
    socket_loop = asyncio.create_task(receiver._run(messages.get))
    messages.put_nowait({"type": "websocket.receive"})
    await asyncio.sleep(0.05)  # the socket message waits for the turn
    release_first.set()
    relayed = asyncio.create_task(receiver.deliver({"type": "room.relay"}))
    done, _ = await asyncio.wait({relayed}, timeout=0.3)
    assert relayed in done, "the sender waited behind the receiver's own slow request"
    # Queued instead, and handled in turn, after the socket message.
    await asyncio.wait_for(asyncio.gather(*receiver.handing_over), timeout=2)
    assert handled == ["room.peer_here", "websocket.receive", "room.relay"]
    socket_loop.cancel()
    await asyncio.gather(socket_loop, *receiver.handing_over, return_exceptions=True)
