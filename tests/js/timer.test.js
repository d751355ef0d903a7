// The session timer (static/js/room/timer.js): time left on the server's clock, its phases and warnings.

import assert from "node:assert/strict";
import { test } from "node:test";

import { clock, phase, remainingSeconds, warning } from "../../static/js/room/timer.js";

const started = "2026-01-01T10:00:00Z";
const at = (iso) => Date.parse(iso);

test("the clock shows minutes and seconds, and hours when there are any", () => {
  assert.deepEqual([clock(0), clock(59), clock(61), clock(600), clock(3725), clock(-61)], [
    "0:00",
    "0:59",
    "1:01",
    "10:00",
    "1:02:05",
    "1:01",
  ]);
});

test("nothing is counted before both people were connected", () => {
  assert.equal(remainingSeconds({ total_minutes: 30, started_at: null }, at(started)), null);
  assert.equal(remainingSeconds(null, at(started)), null);
  assert.equal(phase(null), "not-started");
  assert.equal(warning(null), null);
});

test("time left counts down from the agreed minutes, extensions included", () => {
  assert.equal(remainingSeconds({ total_minutes: 30, started_at: started }, at("2026-01-01T10:10:00Z")), 20 * 60);
  assert.equal(remainingSeconds({ total_minutes: 45, started_at: started }, at("2026-01-01T10:10:00Z")), 35 * 60);
  assert.equal(remainingSeconds({ total_minutes: 30, started_at: started }, at("2026-01-01T10:31:00Z")), -60);
});

test("the phases and warnings at 5 minutes, 1 minute and the end", () => {
  const cases = [
    [301, "running", null],
    [300, "last-five", "five"],
    [61, "last-five", "five"],
    [60, "last-minute", "one"],
    [0, "last-minute", "over"],
    [-1, "overtime", "over"],
  ];
  for (const [remaining, expectedPhase, expectedWarning] of cases) {
    assert.equal(phase(remaining), expectedPhase, `phase at ${remaining}`);
    assert.equal(warning(remaining)?.[0] ?? null, expectedWarning, `warning at ${remaining}`);
  }
});
