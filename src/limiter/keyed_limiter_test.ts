import assert from "node:assert/strict";
import type { LimitAlgorithm, RateLimitConfig } from "../types.ts";
import { createLimiter } from "./mod.ts";

const ALGORITHMS: LimitAlgorithm[] = ["token-bucket", "leaky-bucket", "sliding-window", "fixed-window"];

function config(overrides: Partial<RateLimitConfig> = {}): RateLimitConfig {
  return {
    enabled: true,
    algorithm: "token-bucket",
    capacity: 3,
    rate: 1,
    windowMs: 1000,
    scope: "client-ip",
    clientIpEnable: true,
    maxKeys: 100,
    ...overrides,
  };
}

function fakeClock(start = 0) {
  const clock = Object.assign(() => clock.now, { now: start });
  return clock;
}

/** Sends `count` distinct keys, 1000 per ms; returns the largest size seen and the denials. */
function flood(algorithm: LimitAlgorithm, count: number, maxKeys: number) {
  const clock = fakeClock(1_700_000_000_000);
  const limiter = createLimiter(config({ algorithm, maxKeys }), clock);
  let denied = 0;
  let largest = 0;
  for (let i = 0; i < count; i++) {
    if (i % 1000 === 0) clock.now += 1;
    if (!limiter.take(`ip:chat:${i}`).allowed) denied++;
    if (limiter.size > largest) largest = limiter.size;
  }
  return { denied, largest, size: limiter.size };
}

Deno.test("createLimiter() keeps at most maxKeys keys under 1,000,000 distinct keys", () => {
  assert.deepEqual(flood("token-bucket", 1_000_000, 1000), { denied: 0, largest: 1000, size: 1000 });
});

for (const algorithm of ALGORITHMS) {
  Deno.test(`createLimiter(${algorithm}) keeps at most maxKeys keys under 100,000 distinct keys`, () => {
    assert.deepEqual(flood(algorithm, 100_000, 500), { denied: 0, largest: 500, size: 500 });
  });

  Deno.test(`createLimiter(${algorithm}) limits each key on its own`, () => {
    const limiter = createLimiter(config({ algorithm }), fakeClock(500));
    const a = [1, 2, 3, 4].map(() => limiter.take("ip:chat:10.0.0.1").allowed);
    assert.deepEqual(a, [true, true, true, false]);
    assert.equal(limiter.take("ip:chat:10.0.0.2").allowed, true);
    assert.equal(limiter.size, 2);
  });
}

Deno.test("createLimiter() evicts the least recently used key when full", () => {
  const clock = fakeClock();
  const limiter = createLimiter(config({ maxKeys: 2 }), clock);
  limiter.take("a", 3);
  limiter.take("b", 3);
  limiter.take("a", 0); // touch: b is now the least recently used
  limiter.take("c", 3);
  assert.equal(limiter.size, 2);
  assert.deepEqual(limiter.snapshot().map(([k]) => k), ["a", "c"]);
  assert.equal(limiter.peek("a").allowed, false);
  assert.equal(limiter.peek("b").allowed, true, "b was forgotten, so it starts full");
});

Deno.test("createLimiter() drops keys that are back to a full bucket", () => {
  const clock = fakeClock();
  const limiter = createLimiter(config(), clock);
  limiter.take("x");
  assert.equal(limiter.size, 1);
  clock.now = 1000; // x is full again
  limiter.take("y");
  assert.deepEqual(limiter.snapshot().map(([k]) => k), ["y"]);
  clock.now = 2000;
  limiter.take("y", 0); // y itself is full again after this take: not stored
  assert.equal(limiter.size, 0);
});

Deno.test("createLimiter() peek() neither consumes nor creates keys", () => {
  const limiter = createLimiter(config(), fakeClock());
  assert.deepEqual(limiter.peek("k", 2), {
    allowed: true,
    retryAfterMs: 0,
    limit: 3,
    remaining: 1,
    resetMs: 2000,
  });
  assert.equal(limiter.size, 0);
  limiter.take("k", 3);
  assert.deepEqual(limiter.peek("k"), {
    allowed: false,
    retryAfterMs: 1000,
    limit: 3,
    remaining: 0,
    resetMs: 3000,
  });
});

Deno.test("createLimiter() ramps every key from the limiter's start, even keys first seen later", () => {
  const clock = fakeClock(10_000);
  const limiter = createLimiter(
    config({ algorithm: "fixed-window", capacity: 10, warmUp: { periodMs: 1000, initialFraction: 0.5 } }),
    clock,
  );
  assert.equal(limiter.peek("early").remaining, 4); // 5 minus this request
  clock.now = 10_500; // fraction 0.75 → capacity 7.5
  const admitted = Array.from({ length: 10 }, () => limiter.take("late").allowed).filter(Boolean).length;
  assert.equal(admitted, 7);
  clock.now = 12_000;
  assert.equal(limiter.peek("later").remaining, 9);
});

Deno.test("createLimiter() restartWarmUp() ramps a recovered key again from initialFraction", () => {
  const clock = fakeClock(0);
  const limiter = createLimiter(
    config({ capacity: 10, rate: 10, warmUp: { periodMs: 2000, initialFraction: 0.2 } }),
    clock,
  );
  clock.now = 60_000;
  assert.equal(limiter.peek("instance:a").remaining, 9);
  limiter.restartWarmUp("instance:a");
  assert.equal(limiter.size, 1);
  assert.equal(limiter.peek("instance:a").remaining, 1); // 2 tokens, minus this request
  assert.equal(limiter.peek("instance:b").remaining, 9);
});

Deno.test("createLimiter() restartWarmUp() is a no-op without warm-up", () => {
  const limiter = createLimiter(config(), fakeClock());
  limiter.restartWarmUp("k");
  assert.equal(limiter.size, 0);
});

Deno.test("createLimiter() snapshot → restore keeps a drained key drained in a new limiter", () => {
  const clock = fakeClock(1_000_000);
  for (const algorithm of ALGORITHMS) {
    const first = createLimiter(config({ algorithm }), clock);
    first.take("ip:1", 3);
    const saved = JSON.parse(JSON.stringify(first.snapshot()));
    const second = createLimiter(config({ algorithm }), clock);
    assert.equal(second.restore(saved), 1);
    assert.deepEqual(second.peek("ip:1"), first.peek("ip:1"), algorithm);
    assert.equal(second.peek("ip:1").allowed, false, algorithm);
  }
});

Deno.test("createLimiter() restore() skips states of another algorithm and malformed entries", () => {
  const clock = fakeClock();
  const tb = createLimiter(config(), clock);
  tb.take("a");
  const sw = createLimiter(config({ algorithm: "sliding-window" }), clock);
  const entries: Array<[string, unknown]> = [...tb.snapshot(), ["b", null], ["c", {
    a: "sw",
    ws: 0,
    log: [],
  }]];
  assert.equal(sw.restore(entries), 1);
  assert.deepEqual(sw.snapshot().map(([k]) => k), ["c"]);
});

Deno.test("createLimiter() restore() respects maxKeys", () => {
  const clock = fakeClock();
  const big = createLimiter(config({ maxKeys: 10 }), clock);
  for (let i = 0; i < 10; i++) big.take(`k${i}`);
  const small = createLimiter(config({ maxKeys: 3 }), clock);
  assert.equal(small.restore(big.snapshot()), 10);
  assert.deepEqual(small.snapshot().map(([k]) => k), ["k7", "k8", "k9"]);
});

Deno.test("createLimiter() with enabled: false passes everything and stores nothing", () => {
  const limiter = createLimiter(config({ enabled: false, capacity: 0 }), fakeClock());
  for (let i = 0; i < 10; i++) assert.equal(limiter.take("k", 5).allowed, true);
  assert.equal(limiter.size, 0);
});

Deno.test("createLimiter() rejects bad config and costs with std-style messages", () => {
  const clock = fakeClock();
  assert.throws(() => createLimiter(config({ maxKeys: 0 }), clock), {
    name: "RangeError",
    message: 'Cannot create rate limiter: "maxKeys" must be an integer >= 1, received 0',
  });
  assert.throws(() => createLimiter(config({ algorithm: "bogus" as LimitAlgorithm }), clock), {
    name: "RangeError",
    message: 'Cannot create rate limiter: "algorithm" must be one of token-bucket, leaky-bucket, ' +
      'sliding-window, fixed-window, received "bogus"',
  });
  assert.throws(() => createLimiter(config({ capacity: 0 }), clock), {
    message: 'Cannot create token bucket: "capacity" must be > 0, received 0',
  });
  assert.throws(() => createLimiter(config({ algorithm: "sliding-window", windowMs: -5 }), clock), {
    message: 'Cannot create sliding window: "windowMs" must be > 0, received -5',
  });
  const limiter = createLimiter(config(), clock);
  assert.throws(() => limiter.take("k", -1), {
    name: "RangeError",
    message: 'Cannot take from rate limiter: "cost" must be a finite number >= 0, received -1',
  });
  assert.throws(() => limiter.peek("k", NaN), RangeError);
});

Deno.test("createLimiter() adjust() charges more or refunds a key; a refund to a fresh key is a no-op", () => {
  let now = 0;
  const limiter = createLimiter({
    enabled: true,
    algorithm: "token-bucket",
    capacity: 100,
    rate: 1,
    windowMs: 1000,
    scope: "api-key",
    clientIpEnable: false,
    maxKeys: 10,
    unit: "tokens",
  }, () => now);
  limiter.adjust("k", -50);
  assert.equal(limiter.size, 0, "nothing to give back to a fresh key");
  assert.equal(limiter.take("k", 40).allowed, true);
  limiter.adjust("k", 100); // it cost 100 more than reserved: 60 − 100 = −40
  assert.equal(limiter.peek("k", 1).retryAfterMs, 41_000);
  limiter.adjust("k", -140); // refunded after all
  assert.equal(limiter.size, 0, "back to a fresh state: dropped");
  now = 5;
  assert.equal(limiter.peek("k", 100).allowed, true);
  assert.throws(() => limiter.adjust("k", Number.NaN), /"delta" must be a finite number/);
});
