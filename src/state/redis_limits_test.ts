import assert from "node:assert/strict";
import { seededRandom } from "../../tests/fakes/random.ts";
import { openLink, redisAvailable, startRedis } from "../../tests/fakes/redis_server.ts";
import { createMemoryLimits, type LimitCheck } from "../limiter/backend.ts";
import type { LimitAlgorithm, RateLimitConfig } from "../types.ts";
import { createRedisLimits } from "./redis_limits.ts";

const ignore = !redisAvailable();
const T0 = 1_700_000_000_123.25;

function config(algorithm: LimitAlgorithm, warm: boolean, capacity = 5): RateLimitConfig {
  return {
    enabled: true,
    algorithm,
    capacity,
    rate: 4,
    windowMs: 1000,
    scope: "service",
    clientIpEnable: false,
    maxKeys: 100,
    ...(warm ? { warmUp: { periodMs: 3000, initialFraction: 0.25 } } : {}),
  };
}

const ALGORITHMS: readonly LimitAlgorithm[] = [
  "token-bucket",
  "leaky-bucket",
  "sliding-window",
  "fixed-window",
];

Deno.test({
  name:
    "createRedisLimits() decides seeded traffic exactly as the memory limiters, every algorithm, with and without warm-up",
  ignore,
  async fn() {
    const redis = await startRedis();
    const link = await openLink(redis.url);
    try {
      for (const algorithm of ALGORITHMS) {
        for (const warm of [false, true]) {
          let now = T0;
          const random = seededRandom(algorithm.length * 7 + (warm ? 1 : 0));
          const memory = createMemoryLimits(() => now);
          const cluster = await createRedisLimits({
            link,
            keyPrefix: `t:${algorithm}:${warm}:`,
            now: () => now,
          });
          const outer = config(algorithm, warm, 8);
          const inner = config(algorithm, warm, 5);
          let denials = 0;
          for (let i = 0; i < 400; i++) {
            const r = random();
            // Same instant, exact window boundaries and ms steps (edges), fractional gaps, long pauses.
            if (r < 0.2) now += 0;
            else if (r < 0.3) now = Math.floor(now / 1000) * 1000 + 1000;
            else if (r < 0.4) now += 1;
            else if (r < 0.9) now += random() * 250;
            else now += 400 + random() * 2000;
            const cost = random() < 0.8 ? 1 : random() < 0.5 ? 2.5 : 9;
            const ip = random() < 0.5 ? "10.0.0.1" : "10.0.0.2";
            const checks: LimitCheck[] = [
              { scope: "global", name: "global", key: "global", config: outer },
              { scope: "client-ip", name: "client-ip:chat", key: ip, config: inner, cost },
            ];
            const want = memory.decide(checks);
            const got = await cluster.decide(checks);
            assert.deepEqual(
              got,
              want,
              `${algorithm} warm=${warm} step ${i} at +${now - T0} ms cost ${cost}`,
            );
            if (want.denied >= 0) denials++;
            if (i === 200) {
              const rewarm = [{
                scope: "client-ip",
                name: "client-ip:chat",
                key: ip,
                config: inner,
              }] as const;
              memory.rewarm(rewarm);
              await cluster.rewarm(rewarm);
            }
          }
          assert.ok(denials > 20, `${algorithm} warm=${warm}: traffic must hit the limits (${denials})`);
        }
      }
    } finally {
      link.close();
      await redis.stop();
    }
  },
});

Deno.test({
  name:
    "createRedisLimits() on Redis time: capacity 10 admits exactly 10 of 30 concurrent requests from three links",
  ignore,
  async fn() {
    const redis = await startRedis();
    const links = await Promise.all([0, 1, 2].map(() => openLink(redis.url)));
    try {
      const c = config("token-bucket", false, 10);
      const slow = { ...c, rate: 0.001 };
      const backends = await Promise.all(links.map((link) => createRedisLimits({ link, keyPrefix: "x:" })));
      const verdicts = await Promise.all(
        Array.from(
          { length: 30 },
          (_, i) =>
            backends[i % 3].decide([{
              scope: "service",
              name: "service:chat",
              key: "service",
              config: slow,
            }]),
        ),
      );
      assert.equal(verdicts.filter((v) => v.denied === -1).length, 10);
      const denied = verdicts.find((v) => v.denied === 0)!;
      assert.equal(denied.decisions[0].allowed, false);
      assert.ok(
        denied.decisions[0].retryAfterMs > 900_000,
        `retry after ${denied.decisions[0].retryAfterMs}`,
      );
    } finally {
      for (const l of links) l.close();
      await redis.stop();
    }
  },
});
