import assert from "node:assert/strict";
import type { Endpoint, EngineLoad } from "../types.ts";
import { assertShares, countPicks, endpoints, runStrategyContract, testOptions } from "./_testing.ts";
import { engineWork, leastLoad } from "./least_load.ts";

runStrategyContract("leastLoad()", (members, options) => leastLoad(members, options));
runStrategyContract("leastLoad() with engine loads", (members, options) => {
  const s = leastLoad(members, options);
  const load = (m: Endpoint): EngineLoad => ({
    waiting: m.stats.inFlight % 3,
    running: m.stats.inFlight,
    kvUsage: 0.95,
  });
  return { pick: (ctx) => s.pick({ ...ctx, load }) };
}, { idle: false });

const loads = (table: Record<string, EngineLoad | undefined>) => (m: Endpoint) => table[m.id];

Deno.test("leastLoad() weighs a queued request 4× a running one", () => {
  const s = leastLoad(endpoints([1, 1]), testOptions());
  // a: 4 × 2 + 3 = 11, b: 10 running.
  assert.equal(
    s.pick({ load: loads({ a: { waiting: 2, running: 3 }, b: { waiting: 0, running: 10 } }) })?.id,
    "b",
  );
  // a: 4 × 1 + 3 = 7 < 10.
  assert.equal(
    s.pick({ load: loads({ a: { waiting: 1, running: 3 }, b: { waiting: 0, running: 10 } }) })?.id,
    "a",
  );
});

Deno.test("leastLoad() divides work by weight", () => {
  const s = leastLoad(endpoints([3, 1]), testOptions());
  // a: 12 / 3 = 4, b: 5 / 1.
  assert.equal(
    s.pick({ load: loads({ a: { running: 12, waiting: 0 }, b: { running: 5, waiting: 0 } }) })?.id,
    "a",
  );
});

Deno.test("leastLoad() heavily penalises a KV cache above the saturation threshold", () => {
  const s = leastLoad(endpoints([1, 1]), testOptions());
  const table = { a: { waiting: 0, running: 2, kvUsage: 0.99 }, b: { waiting: 1, running: 6, kvUsage: 0.5 } };
  // a: (2 + 1) × (1 + 10 × 0.9) − 1 = 29 > b: 10.
  assert.equal(s.pick({ load: loads(table) })?.id, "b");
  const lenient = leastLoad(endpoints([1, 1]), testOptions(1, { kvSaturation: 1 }));
  assert.equal(lenient.pick({ load: loads(table) })?.id, "a");
  assert.ok(Math.abs(engineWork(0, { kvUsage: 0.95 }, 0.9) - 5) < 1e-9);
  assert.throws(
    () => leastLoad(endpoints([1]), testOptions(1, { kvSaturation: 0 })),
    /"kvSaturation" must be/,
  );
});

Deno.test("leastLoad() judges a member without a trusted signal by its in-flight count", () => {
  const members = endpoints([1, 1]);
  members[0].stats.inFlight = 3; // no signal (stale): 3
  const s = leastLoad(members, testOptions());
  assert.equal(s.pick({ load: loads({ b: { waiting: 1, running: 0 } }) })?.id, "a", "b: 4 > 3");
  assert.equal(s.pick({ load: loads({ b: { waiting: 0, running: 2 } }) })?.id, "b");
  // No load accessor at all: least-connections.
  assert.equal(s.pick({})?.id, "b");
});

Deno.test("leastLoad() shares idle members by weight (5:3:2) when nothing is queued", () => {
  const s = leastLoad(endpoints([5, 3, 2]), testOptions());
  const idle = { waiting: 0, running: 0 };
  const counts = countPicks(s, 1000, () => ({ load: () => idle }));
  assertShares(counts, { a: 0.5, b: 0.3, c: 0.2 }, 0.001);
});

Deno.test("engineWork() judges a NaN load by in-flight, like a missing one, never as idle; Infinity is full", () => {
  assert.equal(engineWork(3, { waiting: NaN, running: NaN }, 0.9), 3);
  assert.equal(engineWork(3, { waiting: 1, running: NaN }, 0.9), 3);
  assert.equal(engineWork(3, { running: Infinity }, 0.9), Infinity);
  const members = endpoints([1, 1]);
  members[0].stats.inFlight = 2;
  const s = leastLoad(members, testOptions());
  const load = loads({ a: { waiting: NaN, running: NaN }, b: { waiting: 0, running: 1 } });
  assert.deepEqual([...countPicks(s, 4, () => ({ load }))], [["b", 4]], "a: 2 in flight > b: 1 running");
});
