import assert from "node:assert/strict";
import { limiterContract } from "./_testing.ts";
import { createSlidingWindow, type SlidingWindowState } from "./sliding_window.ts";

limiterContract("slidingWindow", createSlidingWindow);

type Stepper = ReturnType<typeof createSlidingWindow>;

function steps(sw: Stepper, reqs: Array<[number, number]>) {
  let s = sw.init(reqs[0][0]);
  const out = reqs.map(([t, c]) => {
    const [next, d] = sw.step(s, t, c);
    s = next;
    return d;
  });
  return { s, out };
}

Deno.test("slidingWindow() has no 2× burst at a boundary: 3 at 999 ms, then nothing until 1999 ms", () => {
  const sw = createSlidingWindow({ capacity: 3, rate: 1, windowMs: 1000 });
  const { s, out } = steps(sw, [[999, 1], [999, 1], [999, 1], [1000, 1]]);
  assert.deepEqual(out.map((d) => d.allowed), [true, true, true, false]);
  assert.equal(out[3].retryAfterMs, 999);
  assert.equal(sw.peek(s, 1998, 1).allowed, false);
  assert.deepEqual([sw.peek(s, 1999, 3).allowed, sw.peek(s, 1999, 3).remaining], [true, 0]);
});

Deno.test("slidingWindow() frees each request's share exactly windowMs after it", () => {
  const sw = createSlidingWindow({ capacity: 3, rate: 1, windowMs: 1000 });
  const { s, out } = steps(sw, [[0, 1], [500, 1], [900, 1], [1000, 1], [1001, 1]]);
  assert.deepEqual(out.map((d) => [d.allowed, d.retryAfterMs]), [[true, 0], [true, 0], [true, 0], [true, 0], [
    false,
    499,
  ]]);
  // A cost of 2 must wait for the entries of 500 and 900 to leave.
  assert.equal(sw.peek(s, 1001, 2).retryAfterMs, 899);
  assert.deepEqual(s.log, [500, 1, 900, 1, 1000, 1]);
  assert.equal(out[3].resetMs, 1000);
});

Deno.test("slidingWindow() merges requests of the same ms into one log entry", () => {
  const sw = createSlidingWindow({ capacity: 100, rate: 1, windowMs: 1000 });
  const { s } = steps(sw, [[5, 1], [5, 2], [5, 1], [6, 1]]);
  assert.deepEqual(s.log, [5, 4, 6, 1]);
});

Deno.test("slidingWindow() never admits more than capacity within any windowMs (seeded traffic)", () => {
  let seed = 42;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const sw = createSlidingWindow({ capacity: 20, rate: 1, windowMs: 1000 });
  let s: SlidingWindowState = sw.init(0);
  const passed: Array<[number, number]> = [];
  let t = 0;
  for (let i = 0; i < 20_000; i++) {
    t += Math.floor(rand() * 40);
    const cost = 1 + Math.floor(rand() * 2);
    const [next, d] = sw.step(s, t, cost);
    s = next;
    if (d.allowed) passed.push([t, cost]);
  }
  let lo = 0;
  let sum = 0;
  let worst = 0;
  for (const [at, cost] of passed) {
    sum += cost;
    while (passed[lo][0] <= at - 1000) sum -= passed[lo++][1];
    worst = Math.max(worst, sum);
  }
  assert.equal(worst, 20);
});

Deno.test("slidingWindow() warm-up: the log must slide out or the ramp rise, whichever is first", () => {
  // Capacity 10 × (0.5 → 1 over 4 s), window 1 s. 5 at t=0 fill the ramp's share; the 6th needs
  // fraction 0.6 (t = 800) — sooner than the entries leaving at 1000.
  const sw = createSlidingWindow({
    capacity: 10,
    rate: 1,
    windowMs: 1000,
    warmUp: { periodMs: 4000, initialFraction: 0.5 },
  });
  const { s, out } = steps(sw, [[0, 5], [0, 1]]);
  assert.deepEqual(out.map((d) => [d.allowed, d.retryAfterMs]), [[true, 0], [false, 800]]);
  // A cost of 6 after them: the 5 leave at 1000, when capacity is 6.25 ≥ 6.
  assert.equal(sw.peek(s, 0, 6).retryAfterMs, 1000);
});

Deno.test("slidingWindow() parse() rejects a log that is not ascending", () => {
  const sw = createSlidingWindow({ capacity: 3, rate: 1, windowMs: 1000 });
  assert.equal(sw.parse({ a: "sw", ws: 0, log: [5, 1, 4, 1] }), undefined);
  assert.equal(sw.parse({ a: "sw", ws: 0, log: [5, 1, 6] }), undefined);
  assert.equal(sw.parse({ a: "sw", ws: 0, log: [5, 0] }), undefined);
  assert.deepEqual(sw.parse({ a: "sw", ws: 0, log: [5, 1, 6, 2] }), { a: "sw", ws: 0, log: [5, 1, 6, 2] });
});

Deno.test("createSlidingWindow() rejects a negative capacity", () => {
  assert.throws(() => createSlidingWindow({ capacity: -1, rate: 1, windowMs: 1000 }), {
    name: "RangeError",
    message: 'Cannot create sliding window: "capacity" must be > 0, received -1',
  });
});
