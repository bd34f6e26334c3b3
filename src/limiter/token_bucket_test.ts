import assert from "node:assert/strict";
import { limiterContract } from "./_testing.ts";
import { createTokenBucket, type TokenBucketState } from "./token_bucket.ts";
import type { Decision } from "../types.ts";

limiterContract("tokenBucket", createTokenBucket);

/** Steps a list of [time, cost] requests, returning each decision. */
function run(tb: ReturnType<typeof createTokenBucket>, s: TokenBucketState, reqs: Array<[number, number]>) {
  const out: Decision[] = [];
  for (const [t, c] of reqs) {
    const [next, d] = tb.step(s, t, c);
    s = next;
    out.push(d);
  }
  return { s, out };
}

Deno.test("tokenBucket() bursts 5, then admits one per 200 ms at rate 5/s", () => {
  const tb = createTokenBucket({ capacity: 5, rate: 5, windowMs: 1000 });
  const { out } = run(tb, tb.init(0), [[0, 1], [0, 1], [0, 1], [0, 1], [0, 1], [0, 1], [199, 1], [200, 1], [
    200,
    1,
  ]]);
  assert.deepEqual(out.map((d) => d.allowed), [true, true, true, true, true, false, false, true, false]);
  assert.deepEqual(out.map((d) => d.retryAfterMs), [0, 0, 0, 0, 0, 200, 1, 0, 200]);
  assert.deepEqual(out.map((d) => d.resetMs), [200, 400, 600, 800, 1000, 1000, 801, 1000, 1000]);
});

Deno.test("tokenBucket() refills 3 tokens in 600 ms and never above capacity", () => {
  const tb = createTokenBucket({ capacity: 5, rate: 5, windowMs: 1000 });
  const { s } = run(tb, tb.init(0), [[0, 5]]);
  assert.equal(tb.peek(s, 600, 0).remaining, 3);
  assert.equal(tb.peek(s, 60_000, 0).remaining, 5);
});

Deno.test("tokenBucket() makes a cost-3 request wait for the missing 2 tokens (400 ms)", () => {
  const tb = createTokenBucket({ capacity: 5, rate: 5, windowMs: 1000 });
  const { out } = run(tb, tb.init(0), [[0, 4], [0, 3], [399, 3], [400, 3]]);
  assert.deepEqual(out.map((d) => [d.allowed, d.retryAfterMs, d.remaining]), [
    [true, 0, 1],
    [false, 400, 1],
    [false, 1, 2],
    [true, 0, 0],
  ]);
});

Deno.test("tokenBucket() rounds a fractional wait up: 1 token at 3/s is 334 ms", () => {
  const tb = createTokenBucket({ capacity: 1, rate: 3, windowMs: 1000 });
  const { out } = run(tb, tb.init(0), [[0, 1], [0, 1], [333, 1], [334, 1]]);
  assert.deepEqual(out.map((d) => [d.allowed, d.retryAfterMs]), [[true, 0], [false, 334], [false, 1], [
    true,
    0,
  ]]);
});

Deno.test("tokenBucket() warm-up from 0.5 over 1 s: 5 at once, the 6th waits 184 ms", () => {
  // Tokens earned after t ms: 10/s × ∫(0.5 + 0.5 τ/1000) dτ = 0.005 t + t²/400000 → 1 token at t ≈ 183.2.
  const tb = createTokenBucket({
    capacity: 10,
    rate: 10,
    windowMs: 1000,
    warmUp: { periodMs: 1000, initialFraction: 0.5 },
  });
  const { s, out } = run(tb, tb.init(0), [[0, 5], [0, 1]]);
  assert.deepEqual(out.map((d) => [d.allowed, d.remaining, d.retryAfterMs]), [[true, 0, 0], [false, 0, 184]]);
  assert.equal(tb.peek(s, 183, 1).allowed, false);
  assert.equal(tb.peek(s, 184, 1).allowed, true);
  // Over the whole ramp it earns 10/s × 750 ms = 7.5 tokens, then the full rate.
  assert.equal(tb.peek(s, 1000, 0).remaining, 7);
  assert.equal(tb.peek(s, 1250, 0).remaining, 10);
});

Deno.test("tokenBucket() rewarm() drops the burst to the ramp's initial share", () => {
  const tb = createTokenBucket({
    capacity: 10,
    rate: 10,
    windowMs: 1000,
    warmUp: { periodMs: 1000, initialFraction: 0.3 },
  });
  const s = tb.rewarm(tb.init(50_000, 0), 50_000);
  assert.equal(tb.peek(s, 50_000, 0).remaining, 3);
  assert.equal(s.ws, 50_000);
});

Deno.test("tokenBucket() clamps a restored state above a shrunk capacity", () => {
  const tb = createTokenBucket({ capacity: 2, rate: 1, windowMs: 1000 });
  const s = tb.parse({ a: "tb", ws: 0, t: 100, tokens: 50 }) as TokenBucketState;
  assert.equal(tb.peek(s, 100, 0).remaining, 2);
  assert.equal(tb.peek(s, 50, 3).allowed, false);
});

Deno.test("createTokenBucket() rejects bad options with std-style messages", () => {
  const base = { capacity: 5, rate: 5, windowMs: 1000 };
  assert.throws(() => createTokenBucket({ ...base, rate: 0 }), {
    name: "RangeError",
    message: 'Cannot create token bucket: "rate" must be > 0, received 0',
  });
  assert.throws(() => createTokenBucket({ ...base, capacity: NaN }), {
    message: 'Cannot create token bucket: "capacity" must be a finite number, received NaN',
  });
  assert.throws(() => createTokenBucket({ ...base, warmUp: { periodMs: 1000, initialFraction: 0 } }), {
    message: 'Cannot create token bucket: "warmUp.initialFraction" must be > 0 and <= 1, received 0',
  });
  assert.throws(() => createTokenBucket({ ...base, warmUp: { periodMs: -1, initialFraction: 0.5 } }), {
    message: 'Cannot create token bucket: "warmUp.periodMs" must be a finite number >= 0, received -1',
  });
  // A window length is not a bucket's business.
  assert.doesNotThrow(() => createTokenBucket({ ...base, windowMs: 0 }));
});
