// Text chat over its own data channel, as operations of a ReplicatedLog: after a reload the other
// browser sends the conversation back. It never passes through the server.

const MAX_CHARS = 2000;

export class Chat {
  constructor({ log, list, form, input, role, peerName }) {
    this.log = log;
    this.list = list;
    this.role = role;
    this.peerName = peerName;
    this.shown = []; // ops in display order, parallel to list.children
    log.onop = (op) => this.show(op);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = input.value.trim().slice(0, MAX_CHARS);
      if (!text) return;
      log.append({ k: "msg", r: this.role, text, at: Date.now() });
      input.value = "";
      input.focus();
    });
  }

  show(op) {
    if (op.k !== "msg" || typeof op.text !== "string") return;
    const item = document.createElement("li");
    item.className = op.r === this.role ? "mine" : "theirs";
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = op.r === this.role ? "You" : this.peerName;
    const when = document.createElement("time");
    const at = new Date(Number(op.at) || Date.now());
    when.dateTime = at.toISOString();
    when.textContent = at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = op.text.slice(0, MAX_CHARS); // text only: never parsed as HTML
    item.append(who, " ", when, " ", text);
    // Keep the agreed order even when older messages arrive late (after a reconnect).
    const order = (x, y) => x.c - y.c || (x.a < y.a ? -1 : x.a > y.a ? 1 : 0) || x.s - y.s;
    let index = this.shown.length;
    while (index > 0 && order(this.shown[index - 1], op) > 0) index -= 1;
    this.shown.splice(index, 0, op);
    this.list.insertBefore(item, this.list.children[index] || null);
    this.list.scrollTop = this.list.scrollHeight;
  }
}
