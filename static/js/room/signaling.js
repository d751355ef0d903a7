// The WebSocket to the room's relay: JSON frames (see signaling/messages.py), reconnecting after a
// drop, and stopping for good when the server says why (replaced by another tab, ended, refused).

export class Signaling {
  // finalCodes: the close codes after which reconnecting would not help (from signaling/messages.py,
  // given to the page in the room contract).
  constructor({ url, finalCodes, onframe, onopen, ondrop, onfinal }) {
    this.url = url;
    this.finalCodes = new Set(finalCodes);
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
      if (this.finalCodes.has(event.code)) {
        this.stopped = true;
        this.onfinal(event.code, event.reason || this.lastReason);
        return;
      }
      this.ondrop();
      // Back off: 0.5 s, 1 s, 2 s ... at most 10 s between attempts.
      const delay = Math.min(10000, 500 * 2 ** this.attempt);
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
