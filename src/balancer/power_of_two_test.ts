import assert from "node:assert/strict";
import {
  assertShares,
  countPicks,
  endpoints,
  mulberry32,
  runStrategyContract,
  simulateConstantConcurrency,
} from "./_testing.ts";
import { powerOfTwo } from "./power_of_two.ts";

runStrategyContract("powerOfTwo()", (members, options) => powerOfTwo(members, options));

Deno.test("powerOfTwo() at zero load matches weights 5,3,2 over 100k picks within ±1 percentage point", () => {
  const s = powerOfTwo(endpoints([5, 3, 2]), { random: mulberry32(21) });
  assertShares(countPicks(s, 100_000), { a: 0.5, b: 0.3, c: 0.2 }, 0.01);
});

Deno.test("powerOfTwo() under constant concurrency 64 follows weights 5,3,2 over 100k picks (±2 pp)", () => {
  const s = powerOfTwo(endpoints([5, 3, 2]), { random: mulberry32(22) });
  assertShares(simulateConstantConcurrency(s, 100_000, 64), { a: 0.5, b: 0.3, c: 0.2 }, 0.02);
});

Deno.test("powerOfTwo() takes the less loaded of its two distinct draws", () => {
  const members = endpoints([1, 1]);
  members[0].stats.inFlight = 5;
  const s = powerOfTwo(members, { random: mulberry32(23) });
  for (let i = 0; i < 100; i++) assert.equal(s.pick({})?.id, "b");
});

Deno.test("powerOfTwo() never lets the most loaded of 10 members win", () => {
  const members = endpoints(Array(10).fill(1));
  members.forEach((m, i) => (m.stats.inFlight = i));
  const s = powerOfTwo(members, { random: mulberry32(24) });
  const counts = countPicks(s, 10_000);
  assert.equal(counts.get("j"), undefined);
  // a is in 1 − (9/10)(8/9) = 20% of the pairs and wins every one of them.
  assert.ok((counts.get("a") ?? 0) > 1_800, `a won ${counts.get("a")}`);
});

Deno.test("powerOfTwo() draws twice per pick, once when a single member is eligible", () => {
  let calls = 0;
  const base = mulberry32(25);
  const s = powerOfTwo(endpoints([1, 1, 1]), {
    random: () => {
      calls++;
      return base();
    },
  });
  s.pick({});
  assert.equal(calls, 2);
  s.pick({ eligible: (m) => m.id === "c" });
  assert.equal(calls, 3);
});
