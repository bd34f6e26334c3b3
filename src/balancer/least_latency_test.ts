import assert from "node:assert/strict";
import {
  assertShares,
  endpoints,
  mulberry32,
  runStrategyContract,
  simulateConstantConcurrency,
} from "./_testing.ts";
import { leastLatency } from "./least_latency.ts";

runStrategyContract("leastLatency()", (members) => leastLatency(members));

Deno.test("leastLatency() sends the next request to a member without a sample, one at a time", () => {
  const members = endpoints([1, 1, 1]);
  members[0].stats.latencyEwmaMs = 10;
  members[1].stats.latencyEwmaMs = 20;
  const s = leastLatency(members);
  assert.equal(s.pick({})?.id, "c");
  members[2].stats.inFlight = 1; // its probe is under way: back to the measured ones
  assert.equal(s.pick({})?.id, "a");
});

Deno.test("leastLatency() prefers the lowest latency × (1 + 10 × errorEwma)", () => {
  const members = endpoints([1, 1]);
  members[0].stats.latencyEwmaMs = 100;
  members[0].stats.errorEwma = 0.2; // 100 × 3 = 300
  members[1].stats.latencyEwmaMs = 250;
  assert.equal(leastLatency(members).pick({})?.id, "b");
  members[0].stats.errorEwma = 0.1; // 100 × 2 = 200
  assert.equal(leastLatency(members).pick({})?.id, "a");
});

Deno.test("leastLatency() weighs latency by the queue a request would join and by weight", () => {
  const members = endpoints([1, 2]);
  members[0].stats.latencyEwmaMs = 100;
  members[0].stats.inFlight = 3; // 100 × 4 / 1 = 400
  members[1].stats.latencyEwmaMs = 150;
  members[1].stats.inFlight = 4; // 150 × 5 / 2 = 375
  assert.equal(leastLatency(members).pick({})?.id, "b");
});

Deno.test("leastLatency() falls back to (inFlight + 1) / weight when nothing is sampled and all are busy", () => {
  const members = endpoints([1, 3]);
  members[0].stats.inFlight = 1; // 2
  members[1].stats.inFlight = 4; // 5/3
  assert.equal(leastLatency(members).pick({})?.id, "b");
});

Deno.test("leastLatency() with equal latencies under concurrency 64 follows weights 5,3,2 over 100k picks (±1 pp)", () => {
  const members = endpoints([5, 3, 2]);
  for (const m of members) m.stats.latencyEwmaMs = 80;
  const counts = simulateConstantConcurrency(leastLatency(members), 100_000, 64);
  assertShares(counts, { a: 0.5, b: 0.3, c: 0.2 }, 0.01);
});

Deno.test("leastLatency() under load gives a 2× faster member about 2× the traffic (±2 pp)", () => {
  const members = endpoints([1, 1]);
  members[0].stats.latencyEwmaMs = 100;
  members[1].stats.latencyEwmaMs = 200;
  const counts = simulateConstantConcurrency(leastLatency(members), 100_000, 60);
  assertShares(counts, { a: 2 / 3, b: 1 / 3 }, 0.02);
});

Deno.test("leastLatency() shares equal-latency members by weight even one request at a time (3:1 → 75/25)", () => {
  // Before the near-tie round robin every sequential request went to the heavier member (100/0).
  for (const concurrency of [1, 2, 8]) {
    const members = endpoints([3, 1]);
    for (const m of members) m.stats.latencyEwmaMs = 120;
    const counts = simulateConstantConcurrency(leastLatency(members), 20_000, concurrency);
    assertShares(counts, { a: 0.75, b: 0.25 }, 0.06);
  }
});

Deno.test("leastLatency() treats latencies within 5 % as equal, so measurement noise does not undo weights", () => {
  const members = endpoints([3, 1]);
  const rnd = mulberry32(5);
  const counts = simulateConstantConcurrency(leastLatency(members), 20_000, 1, () => {
    for (const m of members) m.stats.latencyEwmaMs = 100 + rnd() * 4 - 2;
    return {};
  });
  assertShares(counts, { a: 0.75, b: 0.25 }, 0.02);
});

Deno.test("leastLatency() sees the other replicas' in-flight requests and latency samples (stats.peers)", () => {
  const members = endpoints([1, 1]);
  members[0].stats.latencyEwmaMs = 100;
  members[1].stats.latencyEwmaMs = 120;
  assert.equal(leastLatency(members).pick({})?.id, "a");
  // Two other replicas saw `a` at 200 ms: its mean view is (100 + 2 × 200) / 3 ≈ 167 ms.
  members[0].stats.peers = { inFlight: 0, latencyEwmaMs: 200, errorEwma: 0, sampled: 2 };
  assert.equal(leastLatency(members).pick({})?.id, "b");
  // `b` is unsampled here but sampled elsewhere, and busy elsewhere: 120 × (3 + 1) = 480 > 167.
  members[1].stats.latencyEwmaMs = 0;
  members[1].stats.peers = { inFlight: 3, latencyEwmaMs: 120, errorEwma: 0, sampled: 1 };
  assert.equal(leastLatency(members).pick({})?.id, "a");
});
