import assert from "node:assert/strict";
import { assertShares, countPicks, endpoints, mulberry32, runStrategyContract } from "./_testing.ts";
import { weightedRandom } from "./random.ts";

runStrategyContract("weightedRandom()", (members, options) => weightedRandom(members, options));

Deno.test("weightedRandom() matches weights 5,3,2 over 100k picks within ±1 percentage point", () => {
  const s = weightedRandom(endpoints([5, 3, 2]), { random: mulberry32(11) });
  assertShares(countPicks(s, 100_000), { a: 0.5, b: 0.3, c: 0.2 }, 0.01);
});

Deno.test("weightedRandom() renormalises over the eligible members (b,c of 5,3,2 → 0.6,0.4 ±1 pp)", () => {
  const s = weightedRandom(endpoints([5, 3, 2]), { random: mulberry32(12) });
  const counts = countPicks(s, 100_000, () => ({ eligible: (m) => m.id !== "a" }));
  assert.equal(counts.get("a"), undefined);
  assertShares(counts, { b: 0.6, c: 0.4 }, 0.01);
});

Deno.test("weightedRandom() spreads evenly over weight-0 spares when they are all that is left (±1 pp)", () => {
  const s = weightedRandom(endpoints([0, 0, 0, 4]), { random: mulberry32(13) });
  const counts = countPicks(s, 100_000, () => ({ eligible: (m) => m.id !== "d" }));
  assertShares(counts, { a: 1 / 3, b: 1 / 3, c: 1 / 3 }, 0.01);
});

Deno.test("weightedRandom() maps the draw onto cumulative weights and uses one draw per pick", () => {
  let calls = 0;
  let next = 0;
  const s = weightedRandom(endpoints([1, 2, 1]), {
    random: () => {
      calls++;
      return next;
    },
  });
  const at = (u: number) => {
    next = u;
    return s.pick({})?.id;
  };
  assert.deepEqual([at(0), at(0.24), at(0.25), at(0.74), at(0.75), at(0.999999)], [
    "a",
    "a",
    "b",
    "b",
    "c",
    "c",
  ]);
  assert.equal(calls, 6);
});
