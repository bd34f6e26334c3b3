import assert from "node:assert/strict";
import type { StrategyName } from "../types.ts";
import { endpoints, runStrategyContract, testOptions } from "./_testing.ts";
import { createStrategy, STRATEGIES, STRATEGY_NAMES } from "./mod.ts";

const ALL: readonly StrategyName[] = [
  "random",
  "round-robin",
  "least-connections",
  "ip-hash",
  "power-of-two",
  "least-latency",
  "consistent-hash-bounded",
  "least-load",
  "prefix-affinity",
];

Deno.test("createStrategy() knows every load-balance.type and each one picks", () => {
  assert.deepEqual([...STRATEGY_NAMES].sort(), [...ALL].sort());
  for (const name of ALL) {
    const members = endpoints([1, 2]);
    const s = createStrategy(name, members, testOptions());
    const m = s.pick({ key: "10.0.0.1" });
    assert.ok(m === members[0] || m === members[1], name);
    assert.equal(typeof STRATEGIES[name], "function");
  }
});

Deno.test("createStrategy() rejects an unknown type with a RangeError listing the known ones", () => {
  assert.throws(
    () => createStrategy("weighted" as StrategyName, endpoints([1]), testOptions()),
    (e: unknown) =>
      e instanceof RangeError &&
      e.message === `Cannot create strategy: "type" must be one of ${ALL.join(", ")}, received "weighted"`,
  );
  assert.throws(() => createStrategy("toString" as StrategyName, endpoints([1]), testOptions()), RangeError);
});

Deno.test("createStrategy() reports a bad weight in the house style", () => {
  assert.throws(
    () => createStrategy("least-connections", endpoints([1, -1]), testOptions()),
    (e: unknown) =>
      e instanceof RangeError &&
      e.message ===
        'Cannot create least-connections strategy: "weight" of member "b" must be a finite number >= 0, received -1',
  );
});

Deno.test("createStrategy() validates options each strategy uses", () => {
  const bad = testOptions(1, { random: undefined as unknown as () => number });
  assert.throws(() => createStrategy("random", endpoints([1]), bad), TypeError);
  assert.throws(() => createStrategy("power-of-two", endpoints([1]), bad), TypeError);
  assert.throws(
    () => createStrategy("ip-hash", endpoints([1]), testOptions(1, { hashAlgorithm: "crc" as "md5" })),
    RangeError,
  );
  assert.throws(
    () => createStrategy("consistent-hash-bounded", endpoints([1]), testOptions(1, { loadFactor: 0.5 })),
    RangeError,
  );
  // Deterministic strategies ignore the options they do not use.
  assert.ok(createStrategy("round-robin", endpoints([1]), bad).pick({}) !== undefined);
});

// Every registered strategy, as createStrategy builds it (wrapped by preferResident), keeps the contract.
for (const name of ALL) {
  runStrategyContract(
    `createStrategy("${name}")`,
    (members, options) => createStrategy(name, members, options),
  );
}
