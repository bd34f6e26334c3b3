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
import { fnv1a32, HASH_ALGORITHMS } from "./hash.ts";
import { ipHash } from "./ip_hash.ts";

runStrategyContract("ipHash()", (members, options) => ipHash(members, options));
runStrategyContract(
  "ipHash(sha256)",
  (members, options) => ipHash(members, { ...options, hashAlgorithm: "sha256" }),
);

const ip = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

/** Builds a key-affinity strategy over `members`; `seed` feeds its randomness. */
type Factory = (members: readonly Endpoint[], seed: number) => Strategy<Endpoint>;

const ipHashFnv: Factory = (members, seed) =>
  ipHash(members, { random: mulberry32(seed), hashAlgorithm: "fnv1a" });

function assignment(s: Strategy<Endpoint>, keys: readonly string[], eligible?: (m: Endpoint) => boolean) {
  return keys.map((key) => s.pick({ key, eligible })!.id);
}

function tally(ids: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

const IPS = Array.from({ length: 20_000 }, (_, i) => ip(i));

/**
 * What makes ip-hash ip-hash, each a check that throws for a strategy without it. Every one is
 * run against `ipHash()` below, and the self-check at the end shows each is failed by a plausible
 * wrong implementation, so none of them can pass for any deterministic strategy.
 */
const PROPERTIES: Record<string, (make: Factory) => void> = {
  "a key goes to the same member on every call, in a rebuild with other randomness and in reverse member order":
    (make) => {
      const members = endpoints([3, 1, 2, 2]);
      const s1 = make(members, 1);
      const s2 = make([...members].reverse(), 2);
      const first = assignment(s1, IPS.slice(0, 2000));
      for (let round = 0; round < 3; round++) assert.deepEqual(assignment(s1, IPS.slice(0, 2000)), first);
      assert.deepEqual(assignment(s2, IPS.slice(0, 2000)), first);
    },
  "distinct keys spread by weight 5,3,2 within ±1.5 pp": (make) => {
    assertShares(tally(assignment(make(endpoints([5, 3, 2]), 3), IPS)), { a: 0.5, b: 0.3, c: 0.2 }, 0.015);
  },
  "a member going down moves only its own keys, spread over all survivors, and they come back": (make) => {
    const s = make(endpoints(Array(10).fill(1)), 4);
    const before = assignment(s, IPS);
    const after = assignment(s, IPS, (m) => m.id !== "e");
    for (let i = 0; i < IPS.length; i++) {
      if (before[i] !== "e") {
        assert.equal(after[i], before[i], `key ${IPS[i]} moved off ${before[i]}, still up`);
      }
    }
    assert.equal(new Set(after.filter((_, i) => before[i] === "e")).size, 9, "orphans pile onto few members");
    assert.deepEqual(assignment(s, IPS), before);
  },
  "an 11th member takes ≈1/11 of keys (0.07–0.11) from the others and nothing else moves": (make) => {
    const before = assignment(make(endpoints(Array(10).fill(1)), 5), IPS);
    const after = assignment(make(endpoints(Array(11).fill(1)), 5), IPS);
    const moved = after.filter((id, i) => id !== before[i]);
    assert.ok(moved.every((id) => id === memberId(10)), "a key moved between old members");
    assert.ok(moved.length / IPS.length > 0.07 && moved.length / IPS.length < 0.11, `moved ${moved.length}`);
  },
  "keys are hashed as UTF-8: a lone surrogate goes where U+FFFD goes, and non-Latin keys spread evenly": (
    make,
  ) => {
    const s = make(endpoints([1, 1, 1, 1]), 6);
    for (let i = 0; i < 200; i++) {
      assert.equal(s.pick({ key: `user-${i}-\ud800` }), s.pick({ key: `user-${i}-\ufffd` }), `user-${i}`);
    }
    const keys = Array.from({ length: 8000 }, (_, i) => String.fromCharCode(0x4e00 + i));
    assertShares(tally(assignment(s, keys)), { a: 0.25, b: 0.25, c: 0.25, d: 0.25 }, 0.03);
  },
};

for (const [name, check] of Object.entries(PROPERTIES)) {
  Deno.test(`ipHash() ${name}`, () => check(ipHashFnv));
}

// --- Plausible wrong implementations, each of which some property above must catch. ----------

/** Picks by `score(key, member)`, highest wins, among eligible members. */
function byScore(
  members: readonly Endpoint[],
  score: (key: string, m: Endpoint) => number,
): Strategy<Endpoint> {
  return {
    pick: ({ key = "", eligible }) => {
      let best: Endpoint | undefined;
      let bestScore = -Infinity;
      for (const m of members) {
        const sc = score(key, m);
        if ((!eligible || eligible(m)) && sc > bestScore) (best = m, bestScore = sc);
      }
      return best;
    },
  };
}

/** FNV-1a over the low byte of each UTF-16 unit: what a hand-rolled "hash the string" often does. */
function lowBytes(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ (text.charCodeAt(i) & 0xff), 0x01000193);
  return h >>> 0;
}

const unit = (h: number) => ((Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0) + 0.5) / 2 ** 32;

/** Weighted rendezvous over every member; an ineligible winner hands its key to the next in the list. */
function nextInList(
  members: readonly Endpoint[],
  score: (key: string, m: Endpoint) => number,
): Strategy<Endpoint> {
  const all = byScore(members, score);
  return {
    pick: ({ key, eligible }) => {
      const first = members.indexOf(all.pick({ key })!);
      for (let i = 0; i < members.length; i++) {
        const m = members[(first + i) % members.length];
        if (!eligible || eligible(m)) return m;
      }
      return undefined;
    },
  };
}

const sorted = (members: readonly Endpoint[]) => [...members].sort((x, y) => x.id.localeCompare(y.id));
const weighted = (hash: (text: string) => number) => (key: string, m: Endpoint) =>
  -m.weight / Math.log(unit(hash(`${key}|${m.id}`)));

/** Wrong implementations, and the property (name prefix) that must catch each. */
const WRONG: Record<string, { make: Factory; caughtBy: string }> = {
  "random, key ignored": {
    caughtBy: "a key goes to the same member",
    make: (members, seed) => {
      const r = mulberry32(seed);
      return {
        pick: ({ eligible }) => {
          const up = members.filter((m) => !eligible || eligible(m));
          return up[Math.floor(r() * up.length)];
        },
      };
    },
  },
  "always the first eligible member": {
    caughtBy: "distinct keys spread by weight",
    make: (members) => ({ pick: ({ eligible }) => members.find((m) => !eligible || eligible(m)) }),
  },
  "rendezvous that ignores weights": {
    caughtBy: "distinct keys spread by weight",
    make: (members) => byScore(members, (key, m) => unit(fnv1a32(`${key}|${m.id}`))),
  },
  "weights applied as a multiplier": {
    caughtBy: "distinct keys spread by weight",
    make: (members) => byScore(members, (key, m) => unit(fnv1a32(`${key}|${m.id}`)) * m.weight),
  },
  "orphans handed to the next member in the list": {
    caughtBy: "a member going down",
    make: (members) => nextInList(members, weighted(fnv1a32)),
  },
  "hash modulo the member count": {
    caughtBy: "an 11th member",
    make: (members) => {
      const list = sorted(members);
      return nextInList(list, (key, m) => (fnv1a32(key) % list.length === list.indexOf(m) ? 1 : 0));
    },
  },
  "rendezvous over UTF-16 low bytes": {
    caughtBy: "keys are hashed as UTF-8",
    make: (members) => byScore(members, weighted(lowBytes)),
  },
};

Deno.test("ip-hash properties are each needed: every plausible wrong implementation fails the one meant for it", () => {
  // The weighted rendezvous a correct implementation uses passes them all, with other hashing.
  const reference: Factory = (members) => byScore(members, weighted(fnv1a32));
  for (const check of Object.values(PROPERTIES)) check(reference);
  const caught = new Set<string>();
  for (const [name, { make, caughtBy }] of Object.entries(WRONG)) {
    const [property, check] = Object.entries(PROPERTIES).find(([p]) => p.startsWith(caughtBy))!;
    assert.throws(() => check(make), `"${name}" passed "${property}"`);
    caught.add(property);
  }
  assert.equal(caught.size, Object.keys(PROPERTIES).length, "a property that no wrong implementation needs");
});

// --- Other behaviour --------------------------------------------------------------------------

function build(weights: readonly number[], hashAlgorithm: HashAlgorithm = "fnv1a"): Strategy<Endpoint> {
  return ipHash(endpoints(weights), { random: mulberry32(31), hashAlgorithm });
}

Deno.test("ipHash() spreads 100k IPs over 16 equal members within ±0.5 pp each", () => {
  const expected = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [memberId(i), 1 / 16]));
  assertShares(countPicks(build(Array(16).fill(1)), 100_000, (i) => ({ key: ip(i) })), expected, 0.005);
});

Deno.test("ipHash() moves ≈ w/W of keys when a weighted member is added (weights 5,3 + 2: bound 0.18–0.22)", () => {
  const before = assignment(build([5, 3]), IPS);
  const after = assignment(build([5, 3, 2]), IPS);
  const moved = before.filter((id, i) => id !== after[i]).length / before.length;
  assert.ok(moved > 0.18 && moved < 0.22, `moved ${moved}`);
});

for (const algorithm of HASH_ALGORITHMS) {
  Deno.test(`ipHash(${algorithm}) is stable, balanced within ±2 pp over 20k keys and remaps only orphans`, () => {
    const s = build([1, 1, 1, 1], algorithm);
    const before = assignment(s, IPS);
    assert.deepEqual(assignment(build([1, 1, 1, 1], algorithm), IPS), before);
    assertShares(tally(before), { a: 0.25, b: 0.25, c: 0.25, d: 0.25 }, 0.02);
    const after = assignment(s, IPS, (m) => m.id !== "b");
    for (let i = 0; i < IPS.length; i++) if (before[i] !== "b") assert.equal(after[i], before[i]);
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
