// The WebSocket to the room's relay: JSON frames (see signaling/messages.py), reconnecting after a
// drop, and stopping for good when the server says why (replaced by another tab, ended, refused).

// Close codes after which reconnecting would not help (signaling/messages.py).
const FINAL_CODES = new Set([4001, 4008, 4009, 4010, 4401, 4403, 4404, 4409, 4410, 4451]);
// The server dropped the connection on purpose and wants it back at once (4012), or refused it for
// too many reconnections and wants the page to wait (4029): the delay before the next attempt.
const RETRY_AFTER_MS = new Map([
  [4012, 0],
  [4029, 60000],
]);

export class Signaling {
  constructor({ url, onframe, onopen, ondrop, onfinal }) {
    this.url = url;
    this.onframe = onframe;
    this.onopen = onopen;
    this.ondrop = ondrop;
    this.onfinal = onfinal;
    this.socket = null;
    this.stopped = false;
    this.attempt = 0;
    this.lastReason = "";
  }

  connect() {
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.attempt = 0;
      this.onopen();
    });
    socket.addEventListener("message", (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (frame.type === "error" || frame.type === "replaced" || frame.type === "ended") this.lastReason = frame.message;
      this.onframe(frame);
    });
    socket.addEventListener("close", (event) => {
      if (socket !== this.socket || this.stopped) return;
      if (FINAL_CODES.has(event.code)) {
        this.stopped = true;
        this.onfinal(event.code, event.reason || this.lastReason);
        return;
      }
      // The reason goes to the page when the server gave one that matters to the person (too many reconnections).
      this.ondrop(event.code === 4029 ? event.reason || this.lastReason : "");
      // Back off: 0.5 s, 1 s, 2 s ... at most 10 s between attempts.
      const delay = RETRY_AFTER_MS.get(event.code) ?? Math.min(10000, 500 * 2 ** this.attempt);
      this.attempt += 1;
      setTimeout(() => {
        if (!this.stopped) this.connect();
      }, delay);
    });
  }

  send(frame) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  leave() {
    this.stopped = true;
    if (this.socket) this.socket.close(1000, "Left the call.");
  }
}
