// A replicated log of operations (whiteboard strokes, chat messages) shared by the two browsers over a
// data channel. Each author numbers its own operations (1, 2, 3, ...) and stamps them with a Lamport
// clock; both sides keep every operation and order them the same way, so both end up with the same
// drawing. On every (re)opened channel, and now and then, each side says how far it has each author's
// operations ("have") and the other sends what is missing: nothing is lost across drops or reloads.

const CHUNK_CHARS = 16000; // well under Chromium's data channel message limit

function randomId() {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export class ReplicatedLog {
  constructor() {
    this.me = randomId(); // this page's author id: a reload is a new author, its old operations stay
    this.seq = 0;
    this.clock = 0;
    this.ops = new Map(); // "author:seq" -> op
    this.heads = new Map(); // author -> highest seq held with no gap below it
    this.channel = null;
    this.onop = () => {}; // called with each new operation, local or remote
    this.onephemeral = () => {}; // live ink, pointer: shown, never stored
  }

  static key(op) {
    return `${op.a}:${op.s}`;
  }

  append(body) {
    const op = { ...body, a: this.me, s: ++this.seq, c: ++this.clock };
    this.store(op);
    this.sendRaw({ t: "ops", ops: [op] });
    return op;
  }

  store(op) {
    const key = ReplicatedLog.key(op);
    if (this.ops.has(key)) return false;
    this.ops.set(key, op);
    this.clock = Math.max(this.clock, op.c);
    let head = this.heads.get(op.a) || 0;
    while (this.ops.has(`${op.a}:${head + 1}`)) head += 1;
    this.heads.set(op.a, head);
    this.onop(op);
    return true;
  }

  // Every operation in the order both sides agree on.
  ordered() {
    return [...this.ops.values()].sort((x, y) => x.c - y.c || (x.a < y.a ? -1 : x.a > y.a ? 1 : 0) || x.s - y.s);
  }

  attach(channel) {
    this.channel = channel;
    channel.addEventListener("open", () => this.sayHave());
    channel.addEventListener("message", (event) => this.receive(event.data));
    if (channel.readyState === "open") this.sayHave();
  }

  sayHave() {
    this.sendRaw({ t: "have", heads: Object.fromEntries(this.heads) });
  }

  sendEphemeral(body) {
    this.sendRaw({ t: "x", ...body });
  }

  sendRaw(message) {
    if (this.channel && this.channel.readyState === "open") {
      try {
        this.channel.send(JSON.stringify(message));
      } catch {
        // A closing channel: the next "have" exchange sends it again.
      }
    }
  }

  receive(data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (message.t === "ops" && Array.isArray(message.ops)) {
      for (const op of message.ops) if (valid(op)) this.store(op);
    } else if (message.t === "have" && message.heads && typeof message.heads === "object") {
      this.sendMissing(message.heads);
    } else if (message.t === "x") {
      this.onephemeral(message);
    }
  }

  sendMissing(theirHeads) {
    const missing = this.ordered().filter((op) => op.s > (Number(theirHeads[op.a]) || 0));
    let batch = [];
    let size = 0;
    for (const op of missing) {
      const length = JSON.stringify(op).length;
      if (batch.length && size + length > CHUNK_CHARS) {
        this.sendRaw({ t: "ops", ops: batch });
        batch = [];
        size = 0;
      }
      batch.push(op);
      size += length;
    }
    if (batch.length) this.sendRaw({ t: "ops", ops: batch });
  }
}

function valid(op) {
  return (
    op &&
    typeof op.a === "string" &&
    op.a.length <= 32 &&
    Number.isInteger(op.s) &&
    op.s > 0 &&
    Number.isInteger(op.c) &&
    op.c > 0 &&
    typeof op.k === "string"
  );
}
