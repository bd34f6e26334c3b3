import assert from "node:assert/strict";
import { seededRandom } from "../../tests/fakes/random.ts";
import { openLink, redisAvailable, startRedis } from "../../tests/fakes/redis_server.ts";
import { createMemoryLimits, type LimitCheck } from "../limiter/backend.ts";
import type { LimitAlgorithm, RateLimitConfig } from "../types.ts";
import { createRedisLimits } from "./redis_limits.ts";
import type { RedisLink } from "./redis_link.ts";

const ignore = !redisAvailable();

/** Runs `fn` on a link to a fresh test Redis, stopped afterwards. */
async function withRedis(fn: (link: RedisLink) => Promise<void>): Promise<void> {
  const redis = await startRedis();
  const link = await openLink(redis.url);
  try {
    await fn(link);
  } finally {
    link.close();
    await redis.stop();
  }
}
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
    "createRedisLimits() decides seeded traffic exactly as the memory limiters, every algorithm, with and without warm-up, with and without an instance check after the scopes",
  ignore,
  fn: () =>
    withRedis(async (link) => {
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
            // Half of the requests also take an instance's own limit, once the scopes admitted.
            const extra: LimitCheck[] = random() < 0.5
              ? [{ scope: "instance", name: "instance:a", key: "instance", config: inner }]
              : [];
            const want = memory.decide(checks, extra);
            const got = await cluster.decide(checks, extra);
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
    }),
});

/**
 * `link`, but every script call misses its deadline: the caller's promise rejects at once while
 * Redis runs the call; `settle()` then hands each reply to the call's `late` handler, as a reply
 * that came after the deadline, and sends the undo it returns. Resolves to the undos sent.
 */
function missingLink(link: RedisLink): { link: RedisLink; settle(): Promise<number> } {
  const held: Array<() => Promise<boolean>> = [];
  return {
    link: {
      ...link,
      runScript(script, command, late) {
        const reply = link.runScript(script, command);
        held.push(async () => {
          const undo = late?.(await reply);
          if (undo !== undefined) await link.send(undo);
          return undo !== undefined;
        });
        return Promise.reject(new Error("Redis gave no answer within 50 ms"));
      },
    },
    async settle() {
      let undone = 0;
      for (const h of held.splice(0)) if (await h()) undone++;
      return undone;
    },
  };
}

Deno.test({
  name:
    "createRedisLimits() a call answered past its deadline is undone: Redis then decides seeded traffic exactly as memory limiters that never saw it, every algorithm, with and without warm-up and an instance check",
  ignore,
  fn: () =>
    withRedis(async (link) => {
      for (const algorithm of ALGORITHMS) {
        for (const warm of [false, true]) {
          let now = T0;
          const random = seededRandom(algorithm.length * 11 + (warm ? 1 : 0));
          const memory = createMemoryLimits(() => now);
          const keyPrefix = `late:${algorithm}:${warm}:`;
          const cluster = createRedisLimits({ link, keyPrefix, now: () => now });
          const missing = missingLink(link);
          const abandoned = createRedisLimits({ link: missing.link, keyPrefix, now: () => now });
          const [outer, inner] = [config(algorithm, warm, 8), config(algorithm, warm, 5)];
          let undone = 0;
          let denials = 0;
          for (let i = 0; i < 300; i++) {
            const r = random();
            if (r < 0.3) now += 0;
            else if (r < 0.8) now += random() * 250;
            else now += 400 + random() * 2000;
            const cost = random() < 0.8 ? 1 : 2.5;
            const checks: LimitCheck[] = [
              { scope: "global", name: "global", key: "global", config: outer },
              { scope: "client-ip", name: "client-ip:chat", key: "10.0.0.1", config: inner, cost },
            ];
            const extra: LimitCheck[] = random() < 0.5
              ? [{ scope: "instance", name: "instance:a", key: "instance", config: inner }]
              : [];
            // A third of the calls (never the first: it starts the warm-up) miss their deadline;
            // their reply comes at once or up to 300 ms later.
            if (i > 0 && random() < 0.3) {
              await assert.rejects(async () => await abandoned.decide(checks, extra), /no answer/);
              if (random() < 0.5) now += random() * 300;
              undone += await missing.settle();
              continue;
            }
            const want = memory.decide(checks, extra);
            const at = `${algorithm} warm=${warm} step ${i} at +${now - T0} ms`;
            assert.deepEqual(await cluster.decide(checks, extra), want, at);
            if (want.denied >= 0 || want.extra[0]?.allowed === false) denials++;
          }
          assert.ok(undone > 30, `${algorithm} warm=${warm}: late calls took something (${undone})`);
          assert.ok(denials > 10, `${algorithm} warm=${warm}: traffic must hit the limits (${denials})`);
        }
      }
    }),
});

Deno.test({
  name:
    "createRedisLimits() decides a batch (requests made in one turn) in order, as the memory limiters decide them one by one",
  ignore,
  fn: () =>
    withRedis(async (link) => {
      const now = T0;
      const memory = createMemoryLimits(() => now);
      let calls = 0;
      const cluster = createRedisLimits({
        link,
        keyPrefix: "batch:",
        now: () => now,
        defer: (flush) => (calls++, queueMicrotask(flush)),
      });
      const random = seededRandom(99);
      const [outer, ipLimit, instanceLimit] = [
        config("token-bucket", false, 40),
        config("sliding-window", false, 15),
        config("fixed-window", false, 9),
      ];
      const requests = Array.from({ length: 60 }, () => {
        const ip = random() < 0.5 ? "10.0.0.1" : "10.0.0.2";
        const checks: LimitCheck[] = [
          { scope: "global", name: "global", key: "global", config: outer },
          {
            scope: "client-ip",
            name: "client-ip:chat",
            key: ip,
            config: ipLimit,
          },
        ];
        const extra: LimitCheck[] = [
          {
            scope: "instance",
            name: random() < 0.5 ? "instance:a" : "instance:b",
            key: "instance",
            config: instanceLimit,
          },
        ];
        return { checks, extra };
      });
      const got = await Promise.all(requests.map((r) => cluster.decide(r.checks, r.extra)));
      assert.equal(calls, 1, "one script call for the batch");
      const want = requests.map((r) => memory.decide(r.checks, r.extra));
      assert.deepEqual(got, want);
      const outcomes = new Set(want.map((v) => `${v.denied}:${v.extra[0]?.allowed}`));
      assert.ok(outcomes.size >= 3, `admitted, scope-denied and instance-denied all occur: ${[...outcomes]}`);
    }),
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
      assert.equal(denied.decision!.allowed, false);
      assert.ok(
        denied.decision!.retryAfterMs > 900_000,
        `retry after ${denied.decision!.retryAfterMs}`,
      );
    } finally {
      for (const l of links) l.close();
      await redis.stop();
    }
  },
});

Deno.test({
  name:
    "createRedisLimits() adjust(): a refund gives back room (never past a fresh state), a charge goes into debt, every algorithm",
  ignore,
  fn: () =>
    withRedis(async (link) => {
      for (const algorithm of ALGORITHMS) {
        let now = T0;
        const limits = createRedisLimits({ link, keyPrefix: `adj:${algorithm}:`, now: () => now });
        const c = { ...config(algorithm, false, 100), rate: 0.001, windowMs: 60_000 };
        const check = (cost: number) =>
          [{ scope: "api-key", name: "api-key:k", key: "k", config: c, cost }] as const;
        // Reserve 60 (an estimate), then learn the call used 20: 40 come back.
        const first = await limits.decide(check(60));
        assert.equal(first.denied, -1);
        assert.equal(first.decision!.remaining, 40, algorithm);
        now += 5;
        assert.equal((await limits.decide(check(50))).denied, 0, `${algorithm}: 50 > 40 left`);
        await limits.adjust!(check(-40), first.at);
        const after = await limits.decide(check(50));
        assert.equal(after.denied, -1, `${algorithm}: the refund made room`);
        assert.equal(after.decision!.remaining, 30, algorithm);
        // A refund never leaves more than a fresh state; the sliding window knows each admission's
        // own entry and gives back no more than it holds (50 of the 70 in its log).
        await limits.adjust!(check(-1000), after.at);
        const left = (await limits.decide(check(0))).decision!.remaining;
        assert.equal(left, algorithm === "sliding-window" ? 80 : 100, algorithm);
        // A charge beyond what is left applies anyway: the next request waits for the debt.
        await limits.adjust!(check(150), after.at);
        const owed = await limits.decide(check(1));
        assert.equal(owed.denied, 0, algorithm);
        assert.equal(owed.decision!.remaining, 0, algorithm);
      }
    }),
});

Deno.test({
  name: "createRedisLimits() keys, the warm-up start included, expire once the limiter is idle",
  ignore,
  fn: () =>
    withRedis(async (link) => {
      const limits = createRedisLimits({ link, keyPrefix: "ttl:" });
      const c = config("token-bucket", true, 5);
      await limits.decide([{ scope: "service", name: "service:chat", key: "service", config: c }]);
      const keys = await link.send(["KEYS", "ttl:*"]) as string[];
      assert.equal(keys.length, 2, keys.join(","));
      assert.ok(keys.some((k) => k.endsWith(":~ws")));
      // Refill 5/4 s + warm-up 3 s + 1 s: every key goes after 5.25 s without a request.
      for (const k of keys) {
        const ttl = Number(await link.send(["PTTL", k]));
        assert.ok(ttl > 5000 && ttl <= 5250, `${k}: ${ttl} ms`);
      }
    }),
});
