/**
 * One table for every strategy: ns per pick at 2, 16 and 256 members, with a key and an
 * `eligible` predicate on every pick, as the dispatcher calls it.
 *
 * Run: `deno bench -A src/balancer/`
 */

import type { Endpoint, PickContext, StrategyName } from "../types.ts";
import { endpoints, mulberry32, testOptions } from "./_testing.ts";
import { createStrategy, STRATEGY_NAMES } from "./mod.ts";

const SIZES = [2, 16, 256];
const KEYS = Array.from({ length: 1024 }, (_, i) => `10.0.${i >> 8}.${i & 255}`);

function members(n: number): Endpoint[] {
  const rnd = mulberry32(n);
  const list = endpoints(Array.from({ length: n }, () => 1 + Math.floor(rnd() * 4)));
  for (const m of list) {
    m.stats.inFlight = Math.floor(rnd() * 8);
    m.stats.latencyEwmaMs = 50 + rnd() * 200;
    m.stats.errorEwma = rnd() < 0.2 ? 0.05 : 0;
  }
  return list;
}

function register(name: StrategyName, n: number, hashAlgorithm: "fnv1a" | "md5" = "fnv1a"): void {
  const list = members(n);
  const down = list[n - 1];
  const strategy = createStrategy(name, list, testOptions(1, { hashAlgorithm }));
  // One predicate, allocated once, like a dispatcher's per-request closure would be.
  const eligible = (m: Endpoint) => m !== down;
  const ctx: { key: string | undefined; eligible: PickContext<Endpoint>["eligible"] } = {
    key: undefined,
    eligible,
  };
  let i = 0;
  Deno.bench({
    name: `${name}${hashAlgorithm === "fnv1a" ? "" : ` (${hashAlgorithm})`} × ${n}`,
    group: `${n} members`,
    fn() {
      ctx.key = KEYS[i++ & 1023];
      strategy.pick(ctx);
    },
  });
}

for (const n of SIZES) {
  for (const name of STRATEGY_NAMES) register(name, n);
  register("ip-hash", n, "md5");
}
