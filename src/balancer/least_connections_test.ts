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

Deno.test("leastConnections() breaks a load tie in favour of the heavier member", () => {
  const s = leastConnections(endpoints([1, 3]));
  for (let i = 0; i < 4; i++) assert.equal(s.pick({})?.id, "b");
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
