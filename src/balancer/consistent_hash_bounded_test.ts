import assert from "node:assert/strict";
import type { Endpoint } from "../types.ts";
import {
  assertShares,
  countPicks,
  endpoints,
  mulberry32,
  runStrategyContract,
  testOptions,
} from "./_testing.ts";
import { consistentHashBounded } from "./consistent_hash_bounded.ts";

runStrategyContract("consistentHashBounded()", (members, options) => consistentHashBounded(members, options));

const ip = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

/** The bound of the module doc, computed independently from the eligible members. */
function bound(m: Endpoint, eligible: readonly Endpoint[], loadFactor: number): number {
  const weighted = eligible.filter((e) => e.weight > 0);
  const pool = weighted.length > 0 ? weighted : eligible;
  const w = (e: Endpoint) => (weighted.length > 0 ? e.weight : 1);
  const total = pool.reduce((s, e) => s + e.stats.inFlight, 0);
  const totalWeight = pool.reduce((s, e) => s + w(e), 0);
  return Math.ceil((loadFactor * (total + 1) * w(m)) / totalWeight);
}

Deno.test("consistentHashBounded() at zero load gives 100k distinct keys to weights 5,3,2 within ±1 pp", () => {
  const s = consistentHashBounded(endpoints([5, 3, 2]), testOptions(41));
  assertShares(countPicks(s, 100_000, (i) => ({ key: ip(i) })), { a: 0.5, b: 0.3, c: 0.2 }, 0.01);
});

Deno.test("consistentHashBounded() keeps a key on its member while that member is within its bound", () => {
  const members = endpoints([1, 1, 1, 1]);
  const s = consistentHashBounded(members, testOptions(42));
  const home = s.pick({ key: "session-1" })!;
  for (const m of members) m.stats.inFlight = 5;
  home.stats.inFlight = 6; // bound: ceil(1.25 × 22 / 4) = 7, and 6 + 1 <= 7
  assert.equal(s.pick({ key: "session-1" }), home);
  home.stats.inFlight = 7; // total 23, bound ceil(1.25 × 24 / 4) = 8 — still fits
  assert.equal(s.pick({ key: "session-1" }), home);
  home.stats.inFlight = 9; // total 24, bound ceil(1.25 × 25 / 4) = 8: overloaded
  assert.notEqual(s.pick({ key: "session-1" }), home);
});

Deno.test("consistentHashBounded() never lets a member exceed c × its weighted share under a hot-key load", () => {
  for (const loadFactor of [1, 1.25, 2]) {
    const members = endpoints([4, 1, 2, 1, 3, 1, 2, 2]);
    const s = consistentHashBounded(members, testOptions(43, { loadFactor }));
    const rnd = mulberry32(44);
    const live: Endpoint[] = [];
    for (let step = 0; step < 20_000; step++) {
      // Half the traffic is one hot key; the eligible set changes now and then.
      const key = rnd() < 0.5 ? "hot" : `k${Math.floor(rnd() * 500)}`;
      const down = step % 1000 < 200 ? "e" : "";
      const eligible = (m: Endpoint) => m.id !== down;
      const eligibleMembers = members.filter(eligible);
      const picked = s.pick({ key, eligible })!;
      const limit = bound(picked, eligibleMembers, loadFactor);
      assert.ok(
        picked.stats.inFlight + 1 <= limit,
        `c=${loadFactor} step ${step}: ${picked.id} over ${limit}`,
      );
      picked.stats.inFlight++;
      live.push(picked);
      // Requests end in random order, keeping around 100 in flight.
      while (live.length > 100) {
        const j = Math.floor(rnd() * live.length);
        live[j].stats.inFlight--;
        live[j] = live[live.length - 1];
        live.pop();
      }
    }
  }
});

Deno.test("consistentHashBounded() spreads a single hot key over all members once they fill up", () => {
  const members = endpoints([1, 1, 1, 1]);
  const s = consistentHashBounded(members, testOptions(45, { loadFactor: 1 }));
  for (let i = 0; i < 40; i++) s.pick({ key: "hot" })!.stats.inFlight++;
  assert.deepEqual(members.map((m) => m.stats.inFlight), [10, 10, 10, 10]);
});

Deno.test("consistentHashBounded() without a key starts from a random point and still respects the bound", () => {
  const members = endpoints([5, 3, 2]);
  const s = consistentHashBounded(members, testOptions(46));
  assertShares(countPicks(s, 100_000), { a: 0.5, b: 0.3, c: 0.2 }, 0.01);
});

Deno.test("consistentHashBounded() rejects a load factor below 1 or not finite with a RangeError", () => {
  for (const loadFactor of [0.99, 0, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(
      () => consistentHashBounded(endpoints([1]), testOptions(1, { loadFactor })),
      (e: unknown) =>
        e instanceof RangeError && e.message.includes('"loadFactor" must be a finite number >= 1'),
    );
  }
});
