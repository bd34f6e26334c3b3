import type { LimitAlgorithm, RateLimitConfig } from "../types.ts";
import { createLimiter } from "./mod.ts";

const ALGORITHMS: LimitAlgorithm[] = ["token-bucket", "leaky-bucket", "sliding-window", "fixed-window"];
const KEYS = Array.from({ length: 10_000 }, (_, i) => `ip:chat:10.0.${i >> 8}.${i & 255}`);

function config(algorithm: LimitAlgorithm): RateLimitConfig {
  // Generous enough that most takes pass, so the bench measures the admitting path.
  return {
    enabled: true,
    algorithm,
    capacity: 100,
    rate: 1_000_000,
    windowMs: 1000,
    scope: "client-ip",
    clientIpEnable: true,
    maxKeys: 20_000,
  };
}

for (const algorithm of ALGORITHMS) {
  let now = 1_700_000_000_000;
  const one = createLimiter(config(algorithm), () => now);
  Deno.bench({
    name: `${algorithm} take(), one key`,
    group: "one key",
    baseline: algorithm === "token-bucket",
    fn() {
      now += 0.01;
      one.take("global");
    },
  });

  let i = 0;
  const many = createLimiter(config(algorithm), () => now);
  Deno.bench({
    name: `${algorithm} take(), 10k rotating keys`,
    group: "10k keys",
    baseline: algorithm === "token-bucket",
    fn() {
      now += 0.01;
      many.take(KEYS[i++ % KEYS.length]);
    },
  });
}
