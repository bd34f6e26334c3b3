import assert from "node:assert/strict";
import { limiterContract } from "./_testing.ts";
import { createLeakyBucket, type LeakyBucketState } from "./leaky_bucket.ts";

limiterContract("leakyBucket", createLeakyBucket);

Deno.test("leakyBucket() fills to size 4, then admits one per 500 ms as it leaks at 2/s", () => {
  const lb = createLeakyBucket({ capacity: 4, rate: 2, windowMs: 1000 });
  let s = lb.init(0);
  const seen: Array<[number, boolean, number]> = [];
  for (const t of [0, 0, 0, 0, 0, 499, 500, 500, 1000]) {
    const [next, d] = lb.step(s, t, 1);
    s = next;
    seen.push([t, d.allowed, d.retryAfterMs]);
  }
  assert.deepEqual(seen, [
    [0, true, 0],
    [0, true, 0],
    [0, true, 0],
    [0, true, 0],
    [0, false, 500],
    [499, false, 1],
    [500, true, 0],
    [500, false, 500],
    [1000, true, 0],
  ]);
  assert.equal(s.level, 4);
});

Deno.test("leakyBucket() level drains linearly: 3 poured at 0 leave 2 units free at 500 ms", () => {
  const lb = createLeakyBucket({ capacity: 4, rate: 2, windowMs: 1000 });
  const [s, d] = lb.step(lb.init(0), 0, 3);
  assert.deepEqual([d.remaining, d.resetMs], [1, 1500]);
  assert.deepEqual([lb.peek(s, 500, 0).remaining, lb.peek(s, 500, 0).resetMs], [2, 1000]);
  // A cost of 4 needs the bucket empty: 1500 ms.
  assert.equal(lb.peek(s, 0, 4).retryAfterMs, 1500);
});

Deno.test("leakyBucket() warm-up starts the bucket (1 − initialFraction) full and ramps the leak", () => {
  const lb = createLeakyBucket({
    capacity: 10,
    rate: 10,
    windowMs: 1000,
    warmUp: { periodMs: 1000, initialFraction: 0.5 },
  });
  const s = lb.init(0);
  assert.equal(s.level, 5);
  // Same numbers as the token bucket: 1 unit leaks after 183.2 ms on the ramp.
  const [after, d] = lb.step(s, 0, 6);
  assert.deepEqual([after.level, d.allowed, d.retryAfterMs], [5, false, 184]);
  // Pour 5 more (full); the ramp leaks 10/s × 750 ms = 7.5 units in its first second.
  const [full] = lb.step(s, 0, 5);
  assert.equal(lb.peek(full, 1000, 0).remaining, 7);
  assert.equal(lb.peek(full, 1250, 0).remaining, 10);
});

Deno.test("leakyBucket() parse() rejects a negative level", () => {
  const lb = createLeakyBucket({ capacity: 4, rate: 2, windowMs: 1000 });
  assert.equal(lb.parse({ a: "lb", ws: 0, t: 0, level: -1 }), undefined);
  assert.deepEqual(lb.parse({ a: "lb", ws: 0, t: 0, level: 1 }) as LeakyBucketState, {
    a: "lb",
    ws: 0,
    t: 0,
    level: 1,
  });
});

Deno.test("createLeakyBucket() rejects a leak rate of 0", () => {
  assert.throws(() => createLeakyBucket({ capacity: 4, rate: 0, windowMs: 1000 }), {
    name: "RangeError",
    message: 'Cannot create leaky bucket: "rate" must be > 0, received 0',
  });
});
