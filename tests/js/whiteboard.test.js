// The whiteboard's state (static/js/room/whiteboard.js): what is visible after strokes, undos and clears,
// in the order both browsers agree on; colours and widths from the other side are sanitised.

import assert from "node:assert/strict";
import { test } from "node:test";

import { boardState, clampWidth, safeColor } from "../../static/js/room/whiteboard.js";

let clock = 0;
const stroke = (a, s, id) => ({ k: "stroke", a, s, c: ++clock, id });
const ids = (ops) => boardState(ops).visible.map((op) => op.id);

test("strokes are visible in order", () => {
  assert.deepEqual(ids([stroke("x", 1, "one"), stroke("y", 1, "two")]), ["one", "two"]);
});

test("an undo hides exactly its target stroke", () => {
  const ops = [stroke("x", 1, "one"), stroke("x", 2, "two"), { k: "undo", a: "x", s: 3, c: ++clock, target: "x:2" }];
  assert.deepEqual(ids(ops), ["one"]);
});

test("a clear removes what came before it, not what came after", () => {
  const ops = [stroke("x", 1, "before"), { k: "clear", a: "y", s: 1, c: ++clock }, stroke("x", 2, "after")];
  assert.deepEqual(ids(ops), ["after"]);
});

test("an undo of an unknown stroke changes nothing", () => {
  const ops = [stroke("x", 1, "one"), { k: "undo", a: "x", s: 2, c: ++clock, target: "z:9" }];
  assert.deepEqual(ids(ops), ["one"]);
});

test("only #rrggbb colours are drawn; widths stay between 1 and 80", () => {
  assert.equal(safeColor("#A0b1C2"), "#A0b1C2");
  for (const bad of ["red", "#fff", "url(x)", "#12345g", null, 7]) assert.equal(safeColor(bad), "#1c2733");
  assert.deepEqual([clampWidth(0), clampWidth(12), clampWidth(500), clampWidth("9"), clampWidth(NaN)], [1, 12, 80, 4, 4]);
});
