// The replicated log (static/js/room/log.js): two browsers end with the same operations in the same
// order, whatever was lost on the way, and a malformed operation from the other side is ignored.

import assert from "node:assert/strict";
import { test } from "node:test";

import { ReplicatedLog } from "../../static/js/room/log.js";

// A data channel pair that delivers at once, and can be cut (messages lost) and reopened.
function channelPair() {
  const make = () => ({ readyState: "open", listeners: {}, peer: null, sent: [] });
  const a = make();
  const b = make();
  a.peer = b;
  b.peer = a;
  for (const end of [a, b]) {
    end.addEventListener = (type, fn) => (end.listeners[type] ||= []).push(fn);
    end.send = (data) => {
      end.sent.push(data);
      if (end.readyState === "open" && end.peer.readyState === "open") {
        for (const fn of end.peer.listeners.message || []) fn({ data });
      }
    };
  }
  return [a, b];
}

function connected() {
  const [x, y] = channelPair();
  const left = new ReplicatedLog();
  const right = new ReplicatedLog();
  left.attach(x);
  right.attach(y);
  return { left, right, x, y };
}

const keys = (log) => log.ordered().map(ReplicatedLog.key);

test("operations on both sides reach the other, in the same order on both", () => {
  const { left, right } = connected();
  left.append({ k: "stroke", id: "l1" });
  right.append({ k: "stroke", id: "r1" });
  left.append({ k: "clear" });
  assert.equal(left.ordered().length, 3);
  assert.deepEqual(keys(left), keys(right));
});

test("what was sent while the channel was down is sent again when it reopens", () => {
  const { left, right, x, y } = connected();
  x.readyState = y.readyState = "closed";
  left.append({ k: "stroke", id: "lost-1" });
  left.append({ k: "stroke", id: "lost-2" });
  assert.equal(right.ordered().length, 0);
  x.readyState = y.readyState = "open";
  right.sayHave(); // what a reopened channel does first
  assert.deepEqual(keys(right), keys(left));
  assert.equal(right.ordered().length, 2);
});

test("an operation received twice is stored once", () => {
  const { left, right } = connected();
  const op = left.append({ k: "stroke", id: "once" });
  right.receive(JSON.stringify({ t: "ops", ops: [op] }));
  assert.equal(right.ordered().length, 1);
});

test("malformed frames and operations from the other side are ignored", () => {
  const log = new ReplicatedLog();
  for (const data of [
    "not json",
    JSON.stringify({ t: "ops", ops: "nope" }),
    JSON.stringify({ t: "ops", ops: [null, { a: 1, s: 1, c: 1, k: "stroke" }] }),
    JSON.stringify({ t: "ops", ops: [{ a: "x".repeat(33), s: 1, c: 1, k: "stroke" }] }),
    JSON.stringify({ t: "ops", ops: [{ a: "ok", s: 0, c: 1, k: "stroke" }] }),
    JSON.stringify({ t: "ops", ops: [{ a: "ok", s: 1, c: 1.5, k: "stroke" }] }),
  ]) {
    log.receive(data);
  }
  assert.equal(log.ordered().length, 0);
  log.receive(JSON.stringify({ t: "ops", ops: [{ a: "ok", s: 1, c: 1, k: "stroke" }] })); // positive control
  assert.equal(log.ordered().length, 1);
});

test("a long history is resent in chunks that each stay under the size limit", () => {
  const { left, right, x, y } = connected();
  x.readyState = y.readyState = "closed";
  for (let i = 0; i < 200; i += 1) left.append({ k: "stroke", id: `s${i}`, p: Array(100).fill(i) });
  x.readyState = y.readyState = "open";
  x.sent.length = 0;
  right.sayHave();
  assert.equal(right.ordered().length, 200);
  const batches = x.sent.map((data) => JSON.parse(data)).filter((m) => m.t === "ops");
  assert.ok(batches.length > 1);
  for (const data of x.sent) assert.ok(data.length < 17000);
});
