import assert from "node:assert/strict";
import { Candidates } from "./candidates.ts";
import { endpoints, mulberry32 } from "./_testing.ts";

Deno.test("Candidates.scan() selects the weighted tier, or the weight-0 tier at weight 1 each", () => {
  const c = new Candidates(endpoints([0, 2, 3, 0]));
  assert.equal(c.scan(undefined), 2);
  assert.deepEqual([0, 1, 2, 3].map((i) => c.has(i)), [false, true, true, false]);
  assert.equal(c.totalWeight, 5);
  assert.equal(c.scan((m) => m.id === "a" || m.id === "d"), 2);
  assert.ok(c.zeroTier && c.has(0) && c.has(3) && !c.has(1));
  assert.equal(c.totalWeight, 2);
  assert.equal(c.weight(0), 1);
  assert.equal(c.scan(() => false), 0);
  assert.equal(c.has(0), false);
  assert.equal(c.sample(0.5), -1);
});

Deno.test("Candidates.sample() with an exclusion draws from the rest in proportion (1,2,3 minus c → 1:2 ±1 pp)", () => {
  const c = new Candidates(endpoints([1, 2, 3]));
  c.scan(undefined);
  const rnd = mulberry32(3);
  let b = 0;
  for (let i = 0; i < 100_000; i++) {
    const j = c.sample(rnd(), 2);
    assert.notEqual(j, 2);
    if (j === 1) b++;
  }
  assert.ok(Math.abs(b / 100_000 - 2 / 3) < 0.01, `${b}`);
});

Deno.test("Candidates.sample() returns the last candidate when rounding leaves u × total at the very end", () => {
  const c = new Candidates(endpoints([0.1, 0.2, 0.3]));
  c.scan(undefined);
  assert.equal(c.sample(0.9999999999999999), 2);
});
