import assert from "node:assert/strict";
import type { Endpoint, PickContext } from "../types.ts";
import { countPicks, endpoints, runStrategyContract } from "./_testing.ts";
import { roundRobin } from "./round_robin.ts";

runStrategyContract("roundRobin()", (members) => roundRobin(members));

function sequence(s: { pick(ctx: PickContext<Endpoint>): Endpoint | undefined }, n: number, ctx = {}) {
  return Array.from({ length: n }, () => s.pick(ctx)?.id ?? "-").join("");
}

Deno.test("roundRobin() spreads weights 5,1,1 as a,a,b,a,c,a,a", () => {
  const s = roundRobin(endpoints([5, 1, 1]));
  assert.equal(sequence(s, 14), "aabacaa" + "aabacaa");
});

Deno.test("roundRobin() gives equal weights strict turns a,b,c", () => {
  assert.equal(sequence(roundRobin(endpoints([1, 1, 1])), 9), "abcabcabc");
});

Deno.test("roundRobin() matches weights 5,3,2 exactly over 100k picks (tolerance 0)", () => {
  const counts = countPicks(roundRobin(endpoints([5, 3, 2])), 100_000);
  assert.deepEqual(Object.fromEntries(counts), { a: 50_000, b: 30_000, c: 20_000 });
});

Deno.test("roundRobin() treats fractional weights 0.5,0.25,0.25 like 2,1,1 (a,b,c,a)", () => {
  assert.equal(sequence(roundRobin(endpoints([0.5, 0.25, 0.25])), 8), "abcaabca");
});

Deno.test("roundRobin() skips an ineligible member without disturbing the others' smoothness", () => {
  const members = endpoints([5, 1, 1]);
  const s = roundRobin(members);
  assert.equal(sequence(s, 7), "aabacaa");
  // b is out: a and c keep a smooth 5:1 rhythm, never more than five a's in a row.
  const withoutB = sequence(s, 60, { eligible: (m: Endpoint) => m.id !== "b" });
  assert.ok(!withoutB.includes("b"));
  assert.ok(!withoutB.includes("aaaaaa"), withoutB);
  for (let w = 0; w + 6 <= 60; w += 6) {
    assert.equal([...withoutB.slice(w, w + 6)].filter((x) => x === "c").length, 1, withoutB);
  }
  // b comes back where it stopped: every window of 7 is again 5,1,1.
  const back = sequence(s, 70);
  for (let w = 0; w + 7 <= 70; w += 7) {
    const win = [...back.slice(w, w + 7)];
    assert.deepEqual(
      [win.filter((x) => x === "a").length, win.filter((x) => x === "b").length],
      [5, 1],
      back,
    );
  }
});
