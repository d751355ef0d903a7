"""The floor the room is measured against: a bare WebSocket relay and a minimal WebRTC page, as a raw ASGI app.

No Django, no authentication, no validation, no database: two sockets, each frame forwarded to the
other. Served by daphne like the app (`daphne benchmarks.bare_relay:application`).
"""

from __future__ import annotations

PAGE = b"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Bare relay</title>
<script type="module" src="/bare.js"></script></head>
<body><video id="remote-video" autoplay playsinline muted></video></body></html>"""

SCRIPT = b"""
const video = document.getElementById("remote-video");
const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 1280, height: 720 } });
const ws = new WebSocket(`ws://${location.host}/ws${location.search.replace("?room=", "/")}`);
const send = (message) => ws.send(JSON.stringify(message));
let pc = null;
let queue = Promise.resolve();
function makePc() {
  pc = new RTCPeerConnection();
  for (const track of stream.getTracks()) pc.addTrack(track, stream);
  pc.onicecandidate = (event) => event.candidate && send({ candidate: event.candidate.toJSON() });
  pc.ontrack = (event) => {
    if (event.track.kind !== "video") return;
    video.srcObject = event.streams[0];
    video.requestVideoFrameCallback(() => performance.mark("room:first-remote-frame"));
  };
}
async function handle(message) {
  if (message.peer === "present") {
    performance.mark("room:welcome");
    makePc();
    await pc.setLocalDescription(await pc.createOffer());
    send({ sdp: pc.localDescription.toJSON() });
  } else if (message.peer === "absent") {
    performance.mark("room:welcome");
  } else if (message.peer === "joined") {
    makePc();
  } else if (message.sdp) {
    await pc.setRemoteDescription(message.sdp);
    if (message.sdp.type === "offer") {
      await pc.setLocalDescription(await pc.createAnswer());
      send({ sdp: pc.localDescription.toJSON() });
    }
  } else if (message.candidate) {
    await pc.addIceCandidate(message.candidate);
  }
}
ws.onmessage = (event) => { queue = queue.then(() => handle(JSON.parse(event.data))); };
document.body.dataset.ready = "true";
"""

# Where call_setup.py's pages come from: a page of another site (the e-mail with the link, say).
MAIL = b"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Mail</title></head>
<body><p>Your consultation starts now.</p></body></html>"""

_rooms: dict[str, list] = {}  # room path -> the (at most two) connected sockets' send functions


async def application(scope, receive, send):
    if scope["type"] == "http":
        await receive()
        body, kind = {"/bare.js": (SCRIPT, b"text/javascript"), "/mail": (MAIL, b"text/html")}.get(
            scope["path"], (PAGE, b"text/html")
        )
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", kind)]})
        await send({"type": "http.response.body", "body": body})
    elif scope["type"] == "websocket":
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        sockets = _rooms.setdefault(scope["path"], [])
        peer = sockets[0] if sockets else None
        sockets.append(send)
        if peer:
            await peer({"type": "websocket.send", "text": '{"peer":"joined"}'})
        await send({"type": "websocket.send", "text": '{"peer":"present"}' if peer else '{"peer":"absent"}'})
        try:
            while True:
                message = await receive()
                if message["type"] == "websocket.disconnect":
                    break
                for other in sockets:
                    if other is not send:
                        await other({"type": "websocket.send", "text": message.get("text") or ""})
        finally:
            sockets.remove(send)
            if not sockets:
                del _rooms[scope["path"]]
    elif scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            pass
