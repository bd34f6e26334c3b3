import assert from "node:assert/strict";
import { assertShares, endpoints, runStrategyContract, simulateConstantConcurrency } from "./_testing.ts";
import { leastConnections } from "./least_connections.ts";

runStrategyContract("leastConnections()", (members) => leastConnections(members));

Deno.test("leastConnections() picks the lowest inFlight / weight", () => {
  const members = endpoints([1, 4, 2]);
  members[0].stats.inFlight = 2; // 2
  members[1].stats.inFlight = 6; // 1.5
  members[2].stats.inFlight = 4; // 2
  assert.equal(leastConnections(members).pick({})?.id, "b");
});

Deno.test("leastConnections() rotates through equally loaded equal-weight members", () => {
  const s = leastConnections(endpoints([1, 1, 1]));
  assert.equal(Array.from({ length: 6 }, () => s.pick({})?.id).join(""), "abcabc");
});

Deno.test("leastConnections() shares sequential requests (nothing in flight) 1:3 by weight, spread out", () => {
  // Before issue 14 a tie went to the heavier member: every sequential request landed on b.
  const s = leastConnections(endpoints([1, 3]));
  assert.equal(Array.from({ length: 8 }, () => s.pick({})?.id).join(""), "babbbabb");
});

Deno.test("leastConnections() treats loads within 5 % as a tie, and a clear difference as none", () => {
  const members = endpoints([1, 1]);
  members[0].stats.inFlight = 40;
  members[1].stats.inFlight = 41; // within 5 %: shared
  const s = leastConnections(members);
  assert.equal(Array.from({ length: 4 }, () => s.pick({})?.id).join(""), "abab");
  members[1].stats.inFlight = 43; // 7.5 % more: a only
  assert.equal(Array.from({ length: 4 }, () => s.pick({})?.id).join(""), "aaaa");
});

Deno.test("leastConnections() under constant concurrency 64 follows weights 5,3,2 over 100k picks (±1 pp)", () => {
  const counts = simulateConstantConcurrency(leastConnections(endpoints([5, 3, 2])), 100_000, 64);
  assertShares(counts, { a: 0.5, b: 0.3, c: 0.2 }, 0.01);
});

Deno.test("leastConnections() counts what the other replicas have in flight (stats.peers)", () => {
  const members = endpoints([1, 1]);
  members[0].stats.inFlight = 1;
  members[1].stats.inFlight = 0;
  members[1].stats.peers = { inFlight: 3, latencyEwmaMs: 0, errorEwma: 0, sampled: 0 };
  assert.equal(leastConnections(members).pick({})?.id, "a", "1 here beats 0 here + 3 elsewhere");
  members[0].stats.peers = { inFlight: 4, latencyEwmaMs: 0, errorEwma: 0, sampled: 0 };
  assert.equal(leastConnections(members).pick({})?.id, "b");
});
