import assert from "node:assert/strict";
import { createStatsRing } from "./stats_ring.ts";
import { TTFT_BUCKETS, ttftQuantile } from "./ttft_histogram.ts";

const T0 = 1_700_000_000_000;

Deno.test("createStatsRing() validates its options with std-style messages", () => {
  assert.throws(() => createStatsRing({ clock: undefined as never }), TypeError);
  assert.throws(
    () => createStatsRing({ clock: () => 0, seconds: 0 }),
    new RangeError('Cannot create stats ring: "seconds" must be an integer >= 1, received 0'),
  );
  assert.throws(() => createStatsRing({ clock: () => 0, maxSeries: 1.5 }), RangeError);
});

Deno.test("stats ring: one bucket per second; window() sums whole seconds before the current one", () => {
  let now = T0;
  const ring = createStatsRing({ clock: () => now, seconds: 900 });
  for (let s = 0; s < 20; s++) {
    for (let i = 0; i < 5; i++) ring.record("chat", i === 0, 100, 10);
    now += 1000;
  }
  // The current second is still filling: not counted.
  ring.record("chat", false, 100, 10);
  const w = ring.window("chat", 10);
  assert.equal(w.requests, 50);
  assert.equal(w.errors, 10);
  assert.equal(w.tokens, 500);
  assert.ok(w.ttftP50! > 50 && w.ttftP50! <= 100);
  const [r, e, p95, k] = ring.point("chat", Math.floor(T0 / 1000))!;
  assert.deepEqual([r, e, k], [5, 1, 50]);
  assert.ok(p95! > 50 && p95! <= 100, `p95 ${p95}`);
});

Deno.test("stats ring: a slot is reused when its second comes round; old data never leaks into new seconds", () => {
  let now = T0;
  const ring = createStatsRing({ clock: () => now, seconds: 10 });
  ring.record("a", true, 50, 1);
  now += 10_000; // same slot, ten seconds later
  ring.record("a", false, undefined, 0);
  now += 1000;
  assert.deepEqual(ring.point("a", Math.floor(T0 / 1000) + 10), [1, 0, null, 0]);
  // The first second fell out of the ring.
  assert.deepEqual(ring.point("a", Math.floor(T0 / 1000)), [0, 0, null, 0]);
  assert.equal(ring.window("a", 100).requests, 1);
});

Deno.test("stats ring: history() covers from the first sample to the last whole second, at most `seconds`", () => {
  let now = T0;
  const ring = createStatsRing({ clock: () => now, seconds: 5 });
  assert.equal(ring.history("x"), undefined);
  ring.record("x", false, 30, 2);
  now += 3000;
  const h = ring.history("x")!;
  assert.equal(h.from, Math.floor(T0 / 1000));
  assert.deepEqual(h.requests, [1, 0, 0]);
  assert.deepEqual(h.tokens, [2, 0, 0]);
  assert.deepEqual(h.ttftP95.slice(1), [null, null]);
  now += 60_000;
  assert.equal(ring.history("x")!.requests.length, 5);
});

Deno.test("stats ring: series are capped; further keys are counted as dropped; retain() frees series", () => {
  const ring = createStatsRing({ clock: () => T0, seconds: 900, maxSeries: 2 });
  ring.record("a", false, undefined, 0);
  ring.record("b", false, undefined, 0);
  ring.record("c", false, undefined, 0);
  assert.deepEqual([...ring.keys()], ["a", "b"]);
  assert.equal(ring.dropped, 1);
  ring.retain(new Set(["b"]));
  ring.record("c", false, undefined, 0);
  assert.deepEqual([...ring.keys()], ["b", "c"]);
  // 2 series × 900 s × 48 B: the bound stated in the README for the defaults is 256 × 900 × 48.
  assert.equal(ring.maxBytes, 2 * 900 * 48);
  assert.equal(createStatsRing({ clock: () => 0 }).maxBytes, 11_059_200);
});

Deno.test("stats ring: p95 of one second follows the histogram (fast majority, slow tail)", () => {
  let now = T0;
  const ring = createStatsRing({ clock: () => now });
  for (let i = 0; i < 90; i++) ring.record("i", false, 40, 0);
  for (let i = 0; i < 10; i++) ring.record("i", false, 3000, 0);
  now += 1000;
  const [, , p95] = ring.point("i", Math.floor(T0 / 1000))!;
  assert.ok(p95! > 2500 && p95! <= 4000, `p95 ${p95}`);
  const w = ring.window("i", 1);
  assert.ok(w.ttftP50! > 25 && w.ttftP50! <= 50);
  assert.equal(ttftQuantile(new Uint16Array(TTFT_BUCKETS), 0, 0.95), undefined);
});
