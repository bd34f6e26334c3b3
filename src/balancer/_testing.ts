/**
 * Test support for strategies: a seeded PRNG, member builders, and the contract suite that every
 * strategy runs (the way Hono runs each router through one shared case file).
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Endpoint, PickContext, Random, Strategy, StrategyOptions } from "../types.ts";
import { seededRandom } from "../../tests/fakes/random.ts";

/** Builds a strategy for the contract suite. */
export type TestFactory = (members: readonly Endpoint[], options: StrategyOptions) => Strategy<Endpoint>;

/** mulberry32: the project's seeded PRNG for tests and simulations. */
export const mulberry32: (seed: number) => Random = seededRandom;

/** Options with a seeded RNG, fnv1a and load factor 1.25, overridable. */
export function testOptions(seed = 1, overrides: Partial<StrategyOptions> = {}): StrategyOptions {
  return { random: mulberry32(seed), hashAlgorithm: "fnv1a", loadFactor: 1.25, ...overrides };
}

/** Member id for index `i`: a, b, … z, then m26, m27, … */
export function memberId(i: number): string {
  return i < 26 ? String.fromCharCode(97 + i) : `m${i}`;
}

/** Fresh members with the given weights and idle stats, ids from {@linkcode memberId}. */
export function endpoints(weights: readonly number[]): Endpoint[] {
  return weights.map((weight, i) => ({
    id: memberId(i),
    weight,
    stats: { inFlight: 0, latencyEwmaMs: 0, errorEwma: 0 },
  }));
}

/** Picks `n` times with `ctx(i)` and counts picks by id (`undefined` under the key "none"). */
export function countPicks(
  strategy: Strategy<Endpoint>,
  n: number,
  ctx: (i: number) => PickContext<Endpoint> = () => ({}),
): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const id = strategy.pick(ctx(i))?.id ?? "none";
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

/**
 * Constant-concurrency simulation: `concurrency` requests are always in flight and each lasts the
 * same number of picks (FIFO), so a member's share of picks equals its share of the load. Counts
 * picks by id.
 */
export function simulateConstantConcurrency(
  strategy: Strategy<Endpoint>,
  picks: number,
  concurrency: number,
  ctx: (i: number) => PickContext<Endpoint> = () => ({}),
): Map<string, number> {
  const queue: Endpoint[] = [];
  let head = 0;
  const counts = new Map<string, number>();
  for (let i = 0; i < picks; i++) {
    if (queue.length - head >= concurrency) queue[head++].stats.inFlight--;
    const m = strategy.pick(ctx(i));
    if (m === undefined) throw new Error(`pick ${i} returned undefined`);
    m.stats.inFlight++;
    queue.push(m);
    counts.set(m.id, (counts.get(m.id) ?? 0) + 1);
  }
  return counts;
}

/** Asserts that each id's share of `total` is within `tolerance` (absolute) of `expected`. */
export function assertShares(
  counts: ReadonlyMap<string, number>,
  expected: Readonly<Record<string, number>>,
  tolerance: number,
): void {
  let total = 0;
  for (const v of counts.values()) total += v;
  for (const [id, share] of Object.entries(expected)) {
    const got = (counts.get(id) ?? 0) / total;
    assert.ok(
      Math.abs(got - share) <= tolerance,
      `share of ${id}: expected ${share} ± ${tolerance}, got ${got.toFixed(4)}`,
    );
  }
}

/**
 * A deterministic random workload: random keys, eligibility subsets and load changes. Returns the
 * sequence of picked ids. Used for the determinism and "only eligible" contracts.
 */
function workload(factory: TestFactory, seed: number, picks: number): string[] {
  const members = endpoints([3, 1, 0, 2, 1, 5]);
  const strategy = factory(members, testOptions(seed));
  const rnd = mulberry32(seed ^ 0x9e3779b9);
  const out: string[] = [];
  for (let p = 0; p < picks; p++) {
    const mask = Math.floor(rnd() * 64);
    const key = rnd() < 0.8 ? `10.0.${Math.floor(rnd() * 4)}.${Math.floor(rnd() * 256)}` : undefined;
    const calls = new Map<Endpoint, number>();
    const eligible = (m: Endpoint) => {
      calls.set(m, (calls.get(m) ?? 0) + 1);
      return ((mask >> members.indexOf(m)) & 1) === 1;
    };
    const picked = strategy.pick({ key, eligible });
    for (const [m, n] of calls) assert.ok(n <= 1, `eligible(${m.id}) was called ${n} times in one pick`);
    const anyEligible = members.some((_, i) => ((mask >> i) & 1) === 1);
    if (!anyEligible) {
      assert.equal(picked, undefined, "nothing eligible must give undefined");
      out.push("-");
      continue;
    }
    assert.ok(picked !== undefined, `mask ${mask.toString(2)}: a member is eligible, pick gave undefined`);
    assert.ok(members.includes(picked), "pick must return one of the members, by identity");
    assert.ok(((mask >> members.indexOf(picked)) & 1) === 1, `${picked.id} is not eligible`);
    const positiveEligible = members.some((m, i) => m.weight > 0 && ((mask >> i) & 1) === 1);
    if (positiveEligible) assert.ok(picked.weight > 0, `weight-0 ${picked.id} chosen over weighted ones`);
    out.push(picked.id);
    // Simulated load: the pick starts a request, some requests end, latencies get sampled.
    picked.stats.inFlight++;
    for (const m of members) {
      if (m.stats.inFlight > 0 && rnd() < 0.3) {
        m.stats.inFlight--;
        m.stats.latencyEwmaMs = 50 + Math.floor(rnd() * 200);
        m.stats.errorEwma = rnd() < 0.1 ? 0.5 : 0;
      }
    }
  }
  return out;
}

/** Options of {@linkcode runStrategyContract}. */
export interface ContractOptions {
  /**
   * The factory's picks see an idle pool when nothing is in flight (default). A variant that
   * feeds its own load, residency or prompts (which decide the pick) says `false`, and skips
   * the weights-at-low-load contract.
   */
  readonly idle?: boolean;
}

/**
 * Registers the contract tests every strategy must pass, under the test name prefix `label`.
 *
 * @example
 * ```ts ignore
 * import { runStrategyContract } from "./_testing.ts";
 * import { roundRobin } from "./round_robin.ts";
 * runStrategyContract("roundRobin()", (members) => roundRobin(members));
 * ```
 */
export function runStrategyContract(
  label: string,
  factory: TestFactory,
  options: ContractOptions = {},
): void {
  Deno.test(`${label} returns undefined for an empty member list`, () => {
    const s = factory([], testOptions());
    assert.equal(s.pick({}), undefined);
    assert.equal(s.pick({ key: "10.0.0.1" }), undefined);
    assert.equal(s.pick({ key: "10.0.0.1", eligible: () => true }), undefined);
  });

  Deno.test(`${label} always returns the only member, or undefined when it is ineligible`, () => {
    const members = endpoints([1]);
    const s = factory(members, testOptions());
    for (let i = 0; i < 20; i++) {
      assert.equal(s.pick({ key: `k${i}` }), members[0]);
      assert.equal(s.pick({}), members[0]);
      assert.equal(s.pick({ key: `k${i}`, eligible: () => false }), undefined);
    }
  });

  Deno.test(`${label} returns undefined when every member is ineligible`, () => {
    const s = factory(endpoints([1, 2, 0, 3]), testOptions());
    for (let i = 0; i < 20; i++) {
      assert.equal(s.pick({ eligible: () => false }), undefined);
      assert.equal(s.pick({ key: `10.1.1.${i}`, eligible: () => false }), undefined);
    }
  });

  Deno.test(`${label} picks a weight-0 member only when no weighted member is eligible`, () => {
    const members = endpoints([0, 1, 0]);
    const [a, b, c] = members;
    const s = factory(members, testOptions());
    for (let i = 0; i < 200; i++) {
      const key = i % 2 === 0 ? `10.0.0.${i}` : undefined;
      assert.equal(s.pick({ key }), b);
      const spare = s.pick({ key, eligible: (m) => m !== b });
      assert.ok(spare === a || spare === c, `expected a spare, got ${spare?.id}`);
      assert.equal(s.pick({ key, eligible: (m) => m === c }), c);
    }
    const allZero = factory(endpoints([0, 0]), testOptions());
    assert.ok(allZero.pick({}) !== undefined, "all-zero weights still serve");
  });

  Deno.test(`${label} returns exactly one eligible member, asking eligible() at most once each`, () => {
    workload(factory, 42, 3000);
  });

  Deno.test(`${label} visits every member once when each retry excludes the tried ones`, () => {
    const members = endpoints([4, 1, 2, 0, 3]);
    const s = factory(members, testOptions(3));
    for (let r = 0; r < 50; r++) {
      const tried = new Set<Endpoint>();
      const key = r % 3 === 0 ? undefined : `client-${r}`;
      for (let attempt = 0; attempt < members.length; attempt++) {
        const m = s.pick({ key, eligible: (e) => !tried.has(e) });
        assert.ok(m !== undefined && !tried.has(m), `attempt ${attempt} repeated or failed`);
        tried.add(m);
      }
      assert.equal(s.pick({ key, eligible: (e) => !tried.has(e) }), undefined);
    }
  });

  Deno.test(`${label} is deterministic for a seeded random source`, () => {
    assert.deepEqual(workload(factory, 7, 2000), workload(factory, 7, 2000));
  });

  Deno.test(`${label} rejects negative, NaN and infinite weights with a RangeError`, () => {
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => factory(endpoints([1, bad]), testOptions()), RangeError);
    }
    const dup = endpoints([1, 1]).map((m) => ({ ...m, id: "same" }));
    assert.throws(() => factory(dup, testOptions()), /unique/);
  });

  // A variant whose picks never see an idle pool (fixed loads, prompts) has no such case to test.
  if (options.idle !== false) {
    Deno.test(`${label} follows weights 3:1 over sequential requests (nothing ever in flight)`, () => {
      // The low-load case: each request ends before the next, so every pick sees the same state.
      const s = factory(endpoints([3, 1]), testOptions(5));
      const counts = countPicks(s, 4000, (i) => ({ key: `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}` }));
      assertShares(counts, { a: 0.75, b: 0.25 }, 0.03);
    });
  }

  Deno.test(`${label} is unaffected by later edits to the caller's member array`, () => {
    const members = endpoints([1, 1]);
    const s = factory(members, testOptions());
    members.length = 0;
    assert.ok(s.pick({ key: "x" }) !== undefined);
  });
}
