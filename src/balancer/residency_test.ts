import assert from "node:assert/strict";
import type { Endpoint, EngineLoad } from "../types.ts";
import { endpoints, runStrategyContract, testOptions } from "./_testing.ts";
import { leastConnections } from "./least_connections.ts";
import { preferResident } from "./residency.ts";
import { roundRobin } from "./round_robin.ts";

runStrategyContract("preferResident(roundRobin) with residency", (members) => {
  const s = preferResident(roundRobin(members), members);
  const load = (m: Endpoint): EngineLoad => ({
    resident: m.id === "a" ? true : m.id === "b" ? false : undefined,
  });
  return { pick: (ctx) => s.pick({ ...ctx, load }) };
}, { idle: false });

Deno.test("preferResident() skips known-cold instances only when a warm one is eligible", () => {
  const members = endpoints([1, 1, 1]);
  const [a, b, c] = members;
  const table: Record<string, EngineLoad | undefined> = { a: { resident: false }, b: { resident: true } };
  const load = (m: Endpoint) => table[m.id];
  const s = preferResident(roundRobin(members), members);
  const picks = new Set(Array.from({ length: 30 }, () => s.pick({ load })!.id));
  assert.deepEqual([...picks].sort(), ["b", "c"], "unknown residency (c) is neutral");
  // The warm one is not eligible: the cold one is better than nothing.
  assert.ok([a, c].includes(s.pick({ load, eligible: (m) => m !== b })!));
  // Nobody known warm: nothing filtered.
  table.b = undefined;
  assert.equal(new Set(Array.from({ length: 30 }, () => s.pick({ load })!.id)).size, 3);
});

Deno.test("preferResident() asks the caller's eligible() once per member", () => {
  const members = endpoints([1, 1]);
  const s = preferResident(leastConnections(members), members);
  const calls = new Map<string, number>();
  s.pick({
    load: () => ({ resident: true }),
    eligible: (m) => (calls.set(m.id, (calls.get(m.id) ?? 0) + 1), true),
  });
  assert.deepEqual([...calls.values()], [1, 1]);
  assert.ok(testOptions());
});
