import assert from "node:assert/strict";
import type { Endpoint, HashAlgorithm, Strategy } from "../types.ts";
import {
  assertShares,
  countPicks,
  endpoints,
  memberId,
  mulberry32,
  runStrategyContract,
} from "./_testing.ts";
import { HASH_ALGORITHMS } from "./hash.ts";
import { ipHash } from "./ip_hash.ts";

runStrategyContract("ipHash()", (members, options) => ipHash(members, options));
runStrategyContract(
  "ipHash(sha256)",
  (members, options) => ipHash(members, { ...options, hashAlgorithm: "sha256" }),
);

const ip = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

function build(weights: readonly number[], hashAlgorithm: HashAlgorithm = "fnv1a"): Strategy<Endpoint> {
  return ipHash(endpoints(weights), { random: mulberry32(31), hashAlgorithm });
}

function assignment(s: Strategy<Endpoint>, keys: number, eligible?: (m: Endpoint) => boolean): string[] {
  return Array.from({ length: keys }, (_, i) => s.pick({ key: ip(i), eligible })!.id);
}

Deno.test("ipHash() gives 100k distinct IPs to weights 5,3,2 within ±1 percentage point", () => {
  assertShares(
    countPicks(build([5, 3, 2]), 100_000, (i) => ({ key: ip(i) })),
    { a: 0.5, b: 0.3, c: 0.2 },
    0.01,
  );
});

Deno.test("ipHash() spreads 100k IPs over 16 equal members within ±0.5 pp each", () => {
  const expected = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [memberId(i), 1 / 16]));
  assertShares(countPicks(build(Array(16).fill(1)), 100_000, (i) => ({ key: ip(i) })), expected, 0.005);
});

Deno.test("ipHash() sends the same key to the same member, across picks, rebuilds and member order", () => {
  const members = endpoints([3, 1, 2, 2]);
  const s1 = ipHash(members, { random: mulberry32(1), hashAlgorithm: "fnv1a" });
  const s2 = ipHash([...members].reverse(), { random: mulberry32(2), hashAlgorithm: "fnv1a" });
  for (let i = 0; i < 2000; i++) {
    const first = s1.pick({ key: ip(i) });
    assert.equal(s1.pick({ key: ip(i) }), first);
    assert.equal(s2.pick({ key: ip(i) }), first);
  }
});

Deno.test("ipHash() remaps only the removed member's keys when one of 10 goes down (≈1/10, bound 0.08–0.12)", () => {
  const s = build(Array(10).fill(1));
  const before = assignment(s, 50_000);
  const after = assignment(s, 50_000, (m) => m.id !== "e");
  let moved = 0;
  for (let i = 0; i < before.length; i++) {
    if (before[i] === after[i]) continue;
    moved++;
    assert.equal(before[i], "e", `key ${ip(i)} moved from ${before[i]}, which is still up`);
  }
  const fraction = moved / before.length;
  assert.ok(fraction > 0.08 && fraction < 0.12, `moved ${fraction}`);
  // The orphans spread over the survivors instead of piling onto one neighbour.
  const heirs = new Set(after.filter((_, i) => before[i] === "e"));
  assert.equal(heirs.size, 9);
  // When e comes back, its keys come back.
  assert.deepEqual(assignment(s, 50_000), before);
});

Deno.test("ipHash() moves only ≈1/11 of keys, all to the newcomer, when an 11th member is added (bound 0.07–0.11)", () => {
  const before = assignment(build(Array(10).fill(1)), 50_000);
  const after = assignment(build(Array(11).fill(1)), 50_000);
  let moved = 0;
  for (let i = 0; i < before.length; i++) {
    if (before[i] === after[i]) continue;
    moved++;
    assert.equal(after[i], memberId(10));
  }
  const fraction = moved / before.length;
  assert.ok(fraction > 0.07 && fraction < 0.11, `moved ${fraction}`);
});

Deno.test("ipHash() moves ≈ w/W of keys when a weighted member is added (weights 5,3 + 2: bound 0.18–0.22)", () => {
  const before = assignment(build([5, 3]), 50_000);
  const after = assignment(build([5, 3, 2]), 50_000);
  const moved = before.filter((id, i) => id !== after[i]).length / before.length;
  assert.ok(moved > 0.18 && moved < 0.22, `moved ${moved}`);
});

for (const algorithm of HASH_ALGORITHMS) {
  Deno.test(`ipHash(${algorithm}) is stable, balanced within ±2 pp over 20k keys and remaps only orphans`, () => {
    const s = build([1, 1, 1, 1], algorithm);
    const keys = 20_000;
    const before = assignment(s, keys);
    assert.deepEqual(assignment(build([1, 1, 1, 1], algorithm), keys), before);
    const counts = new Map<string, number>();
    for (const id of before) counts.set(id, (counts.get(id) ?? 0) + 1);
    assertShares(counts, { a: 0.25, b: 0.25, c: 0.25, d: 0.25 }, 0.02);
    const after = assignment(s, keys, (m) => m.id !== "b");
    for (let i = 0; i < keys; i++) if (before[i] !== "b") assert.equal(after[i], before[i]);
  });
}

Deno.test("ipHash() without a key (or with an empty one) is weighted random 5,3,2 within ±1 pp", () => {
  const s = build([5, 3, 2]);
  assertShares(
    countPicks(s, 100_000, (i) => ({ key: i % 2 ? undefined : "" })),
    { a: 0.5, b: 0.3, c: 0.2 },
    0.01,
  );
});

Deno.test("ipHash() hashes non-ASCII keys (header or user values) consistently", () => {
  const s = build([1, 1, 1]);
  for (const key of ["utilisateur-é", "用户-42", "emoji-🙂", "lone-\ud800"]) {
    assert.equal(s.pick({ key }), s.pick({ key }));
  }
});
