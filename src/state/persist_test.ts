import assert from "node:assert/strict";
import { type CircuitBreaker, createBreaker } from "../breaker/mod.ts";
import { createLimiter, type KeyedLimiter } from "../limiter/mod.ts";
import type { BreakerConfig, Clock, LimitAlgorithm, RateLimitConfig } from "../types.ts";
import {
  createMemoryStore,
  openKvStore,
  PART_CHARS,
  restoreState,
  saveState,
  type StateStore,
} from "./mod.ts";

const BREAKER: BreakerConfig = {
  enabled: true,
  failureThreshold: 2,
  timeoutMs: 30_000,
  successThreshold: 1,
  halfOpenMaxCalls: 1,
};

function limiterConfig(algorithm: LimitAlgorithm = "token-bucket", maxKeys = 100): RateLimitConfig {
  return {
    enabled: true,
    algorithm,
    capacity: 10,
    rate: 1,
    windowMs: 60_000,
    scope: "client-ip",
    clientIpEnable: true,
    maxKeys,
  };
}

function fakeClock(now: number) {
  const clock = Object.assign(() => clock.now, { now });
  return clock;
}

function targets(clock: Clock, algorithm: LimitAlgorithm = "token-bucket") {
  return {
    breakers: new Map<string, CircuitBreaker>([
      ["chat/a", createBreaker(BREAKER, clock)],
      ["chat/b", createBreaker(BREAKER, clock)],
    ]),
    limiters: new Map<string, KeyedLimiter>([
      ["service:chat", createLimiter(limiterConfig(algorithm), clock)],
    ]),
  };
}

async function withKv(fn: (store: StateStore) => Promise<void>): Promise<void> {
  const store = await openKvStore(":memory:");
  try {
    await fn(store);
  } finally {
    store.close();
  }
}

Deno.test("saveState() → restoreState(): a drained bucket stays drained and an open breaker stays open", () =>
  withKv(async (store) => {
    const clock = fakeClock(1_700_000_000_000);
    const before = targets(clock);
    before.breakers.get("chat/a")!.onFailure();
    before.breakers.get("chat/a")!.onFailure();
    before.limiters.get("service:chat")!.take("ip:10.0.0.1", 10);
    await saveState(store, before);

    clock.now += 5_000; // the restart
    const after = targets(clock);
    const summary = await restoreState(store, after);
    assert.deepEqual(summary, { breakers: 2, limiterKeys: 1, skipped: [] });

    const a = after.breakers.get("chat/a")!;
    assert.deepEqual([a.state, a.canPass()], ["open", false]);
    assert.equal(after.breakers.get("chat/b")!.state, "closed");
    const denied = after.limiters.get("service:chat")!.take("ip:10.0.0.1", 6);
    assert.deepEqual([denied.allowed, denied.remaining, denied.retryAfterMs], [false, 5, 1000]);

    clock.now = 1_700_000_030_000 - 1;
    assert.equal(a.state, "open", "open for the rest of its 30 s timeout, not a fresh one");
    clock.now += 1;
    assert.equal(a.state, "half_open");
  }));

for (const algorithm of ["leaky-bucket", "sliding-window", "fixed-window"] as const) {
  Deno.test(`saveState() → restoreState() keeps a ${algorithm} limiter's keys`, () =>
    withKv(async (store) => {
      const clock = fakeClock(1_700_000_000_000);
      const before = targets(clock, algorithm);
      before.limiters.get("service:chat")!.take("k", 10);
      await saveState(store, before);
      const after = targets(clock, algorithm);
      await restoreState(store, after);
      assert.deepEqual(
        after.limiters.get("service:chat")!.peek("k"),
        before.limiters.get("service:chat")!.peek("k"),
      );
      assert.equal(after.limiters.get("service:chat")!.peek("k").allowed, false);
    }));
}

Deno.test("saveState() splits a large limiter into parts under the KV value limit and restores all keys", () =>
  withKv(async (store) => {
    const clock = fakeClock(1_700_000_000_000);
    const big = createLimiter(limiterConfig("sliding-window", 20_000), clock);
    for (let i = 0; i < 10_000; i++) big.take(`ip:chat:10.0.${i >> 8}.${i & 255}`, 1 + (i % 3));
    const t = { breakers: new Map(), limiters: new Map([["ip:chat", big]]) };
    await saveState(store, t);
    const parts = await store.list<string>(["dairouter", "limiter-part", "ip:chat"]);
    assert.ok(parts.length > 10, `${parts.length} parts`);
    assert.ok(parts.every((p) => p.value.length <= PART_CHARS));

    const copy = createLimiter(limiterConfig("sliding-window", 20_000), clock);
    const summary = await restoreState(store, {
      breakers: new Map(),
      limiters: new Map([["ip:chat", copy]]),
    });
    assert.equal(summary.limiterKeys, 10_000);
    assert.deepEqual(copy.snapshot(), big.snapshot());
  }));

Deno.test("saveState() replaces the previous generation and forgets names no longer present", async () => {
  const clock = fakeClock(0);
  const store = createMemoryStore(clock);
  await saveState(store, targets(clock));
  await saveState(store, targets(clock));
  const keys = (await store.list(["dairouter"])).map((e) => e.key.join(" "));
  assert.deepEqual(keys, [
    "dairouter breaker chat/a",
    "dairouter breaker chat/b",
    "dairouter limiter service:chat",
    "dairouter limiter-part service:chat 2 000000",
  ]);
  await saveState(store, { breakers: new Map(), limiters: new Map() });
  assert.deepEqual(await store.list(["dairouter"]), []);
});

Deno.test("restoreState() skips and reports unusable data instead of throwing", async () => {
  const clock = fakeClock(0);
  const store = createMemoryStore(clock);
  await store.set(["dairouter", "breaker", "chat/a"], { state: "ajar" });
  await store.set(["dairouter", "limiter", "service:chat"], { gen: 3, parts: 2 });
  await store.set(["dairouter", "limiter-part", "service:chat", "3", "000000"], "[[");
  const t = targets(clock);
  const summary = await restoreState(store, t);
  assert.deepEqual(summary, {
    breakers: 0,
    limiterKeys: 0,
    skipped: ["breaker:chat/a", "limiter:service:chat"],
  });
  assert.equal(t.breakers.get("chat/a")!.state, "closed");
});

Deno.test("restoreState() into a limiter of another algorithm loads nothing", async () => {
  const clock = fakeClock(0);
  const store = createMemoryStore(clock);
  const before = targets(clock, "token-bucket");
  before.limiters.get("service:chat")!.take("k", 5);
  await saveState(store, before);
  const summary = await restoreState(store, targets(clock, "fixed-window"));
  assert.deepEqual(summary, { breakers: 2, limiterKeys: 0, skipped: [] });
});
