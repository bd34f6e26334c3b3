import assert from "node:assert/strict";
import type { Endpoint, EngineLoad } from "../types.ts";
import { endpoints, runStrategyContract, testOptions } from "./_testing.ts";
import { prefixAffinity } from "./prefix_affinity.ts";
import { PrefixCache } from "./prefix_cache.ts";
import { hashPrompt } from "./prompt_hash.ts";

runStrategyContract("prefixAffinity()", (members, options) => prefixAffinity(members, options));
runStrategyContract("prefixAffinity() with prompts", (members, options) => {
  const s = prefixAffinity(members, options);
  let n = 0;
  return { pick: (ctx) => s.pick({ ...ctx, promptHashes: [1, 2, 3, 4 + (n++ % 5)] }) };
}, { idle: false });

const chat = (...turns: string[]) => ({
  messages: [
    { role: "system", content: "You are DAiRouter's test assistant. Answer briefly. ".repeat(12) },
    ...turns.map((content, i) => ({ role: i % 2 === 0 ? "user" : "assistant", content })),
  ],
});

Deno.test("prefixAffinity() keeps every turn of a conversation home, within the load bound", () => {
  const members = endpoints([1, 1, 1]);
  const s = prefixAffinity(members, testOptions(1, { loadFactor: 1.25 }));
  const users = ["alice", "bob", "carol", "dave", "erin", "frank"];
  const homes = new Map<string, string>();
  for (let turn = 1; turn <= 4; turn++) {
    // Every user's request of this turn is in flight at once, then they all finish.
    const started: Endpoint[] = [];
    for (const user of users) {
      const turns = Array.from(
        { length: turn },
        (_, i) => `${user} says thing number ${i} with some padding text`,
      );
      const total = started.length;
      const picked = s.pick({ promptHashes: hashPrompt(chat(...turns)) })!;
      assert.ok(picked.stats.inFlight + 1 <= Math.ceil((1.25 * (total + 1)) / 3), "bounded load");
      picked.stats.inFlight++;
      started.push(picked);
      if (turn === 1) homes.set(user, picked.id);
      else assert.equal(picked.id, homes.get(user), `${user} turn ${turn}`);
    }
    for (const m of started) m.stats.inFlight--;
  }
  // The shared system prompt alone would draw everyone to one instance: the bound spread them.
  assert.ok(new Set(homes.values()).size >= 2);
});

Deno.test("prefixAffinity() leaves the longest match when its load passes loadFactor × its share", () => {
  const members = endpoints([1, 1]);
  const [a, b] = members;
  const s = prefixAffinity(members, testOptions(1, { loadFactor: 1.25 }));
  const prompt = [11, 12, 13];
  assert.equal(s.pick({ promptHashes: prompt }), a);
  a.stats.inFlight = 1; // bound: ceil(1.25 × 2 / 2) = 2, and 1 + 1 <= 2: stays
  assert.equal(s.pick({ promptHashes: prompt }), a);
  a.stats.inFlight = 2; // bound: ceil(1.25 × 3 / 2) = 2, and 2 + 1 > 2: leaves
  assert.equal(s.pick({ promptHashes: prompt }), b);
  // b served it too now: of two equal matches, the less loaded one.
  b.stats.inFlight = 1;
  assert.equal(s.pick({ promptHashes: [11, 12, 13, 14] }), b);
});

Deno.test("prefixAffinity() measures load with engine signals when trusted", () => {
  const members = endpoints([1, 1]);
  const [a, b] = members;
  const s = prefixAffinity(members, testOptions());
  const table: Record<string, EngineLoad | undefined> = {
    a: { waiting: 0, running: 1 },
    b: { waiting: 0, running: 1 },
  };
  const load = (m: Endpoint) => table[m.id];
  assert.equal(s.pick({ promptHashes: [5, 6], load }), a);
  table.a = { waiting: 6, running: 10 }; // 34 work vs 1: far beyond its share
  assert.equal(s.pick({ promptHashes: [5, 6], load }), b);
});

Deno.test("prefixAffinity() prefers the longer match; ties go to the less loaded", () => {
  const members = endpoints([1, 1, 1]);
  const [a, b, c] = members;
  const s = prefixAffinity(members, testOptions(1, { loadFactor: 3 }));
  assert.equal(s.pick({ promptHashes: [1, 2] }), a);
  assert.equal(s.pick({ promptHashes: [9] }), b);
  assert.equal(s.pick({ promptHashes: [1, 2, 3, 4], eligible: (m) => m !== a }), c);
  assert.equal(s.pick({ promptHashes: [1, 2, 3, 4, 5] }), c, "c holds 4 blocks, a only 2");
  a.stats.inFlight = 1;
  assert.equal(s.pick({ promptHashes: [1, 2, 7], eligible: (m) => m !== b }), c, "both match 2: c is idle");
});

Deno.test("PrefixCache never holds more than its capacity and keeps what was used in the last half", () => {
  const cache = new PrefixCache(100);
  for (let i = 0; i < 10_000; i++) {
    cache.remember([i]);
    assert.ok(cache.size <= 100);
  }
  for (let i = 10_000 - 50; i < 10_000; i++) assert.ok(cache.has(i), `${i} was used recently`);
  assert.ok(!cache.has(0));
  assert.throws(() => new PrefixCache(1), RangeError);
  assert.throws(
    () => prefixAffinity(endpoints([1]), testOptions(1, { prefixCacheSize: 1 })),
    /prefixCacheSize/,
  );
});
