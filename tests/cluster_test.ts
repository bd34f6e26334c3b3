/**
 * Three gateway processes (`main.ts`, as systemd runs them) sharing one real `redis-server`:
 * a service limit holds for the cluster exactly, a breaker opened by one replica rejects on the
 * other two within 1 s, and an admin change made on one replica is served by the others within
 * 1 s. Each replica has its own config file, as on separate hosts.
 */

import assert from "node:assert/strict";
import { startFakeUpstream } from "./fakes/openai_upstream.ts";
import { redisAvailable, startRedis } from "./fakes/redis_server.ts";
import {
  chat,
  replicaYaml,
  startReplicas,
  stopAll,
  TOKEN,
  waitForCount,
  within,
  withReplicas,
} from "./fakes/replicas.ts";

const ignore = !redisAvailable();
const OPEN_KEY = "sk-cluster-open-0123456789abcdef";
const METERED_KEY = "sk-cluster-metered-0123456789abcd";
async function breakerOf(url: string): Promise<string> {
  const status = await (await fetch(`${url}/v1/chat/status`)).json();
  return status.instances[0].breaker;
}

Deno.test({
  name: "three replicas on one Redis: a service limit of 10 lets exactly 10 of 30 requests through",
  ignore,
  async fn() {
    const up = startFakeUpstream({ name: "A" });
    const redis = await startRedis();
    const limit = "      rate-limit: { algorithm: token-bucket, capacity: 10, rate: 0.001 }";
    const gws = await startReplicas(3, replicaYaml(redis.url, up.url, limit));
    try {
      const statuses = await Promise.all(
        Array.from({ length: 30 }, async (_, i) => {
          const res = await chat(gws[i % 3].url);
          await res.body?.cancel();
          return res.status;
        }),
      );
      assert.equal(statuses.filter((s) => s === 200).length, 10, statuses.join(","));
      assert.equal(statuses.filter((s) => s === 429).length, 20);
      assert.equal(up.requests.length, 10);
    } finally {
      await stopAll(gws, redis);
      await up.close();
    }
  },
});

Deno.test({
  name:
    "three replicas on one Redis: an instance limit of 4 and an API-key limit of 6 hold for the cluster exactly",
  ignore,
  async fn() {
    const a = startFakeUpstream({ name: "A" });
    const b = startFakeUpstream({ name: "B" });
    const redis = await startRedis();
    const yaml = replicaYaml(redis.url, b.url, "      load-balance: { type: round-robin }")
      .replace(
        "      instances:\n",
        `      instances:\n        - { name: m, base-url: "${a.url}", rate-limit: { capacity: 4, rate: 0.001 } }\n`,
      ) + `
auth:
  keys:
    - { name: open, key: "${OPEN_KEY}" }
    - name: metered
      key: "${METERED_KEY}"
      rate-limit: { algorithm: fixed-window, capacity: 6, window: 1m }
`;
    const gws = await startReplicas(3, yaml);
    try {
      // Unevenly spread (8, 4, 0): per-replica shares (6 ÷ 3) would let only 4 through.
      const send = (key: string) =>
        Promise.all(Array.from({ length: 12 }, async (_, i) => {
          const res = await chat(gws[i < 8 ? 0 : 1].url, "m", key);
          await res.body?.cancel();
          return res.status;
        }));
      const open = await send(OPEN_KEY);
      assert.deepEqual(open.filter((s) => s !== 200), [], "B serves what A's limit turns away");
      assert.equal(a.requests.length, 4, "A's own limit held across the three replicas");
      assert.equal(b.requests.length, 8);
      const metered = await send(METERED_KEY);
      assert.equal(metered.filter((s) => s === 200).length, 6, metered.join(","));
      assert.equal(metered.filter((s) => s === 429).length, 6);
    } finally {
      await stopAll(gws, redis);
      await a.close();
      await b.close();
    }
  },
});

/**
 * One replica on Redis whose one instance has `max-concurrency: 1` (each answer holds the slot
 * 300 ms), its `limit` (YAML) and a queue, plus `service` lines: six requests 40 ms apart, so each
 * finds the one before it running or queued. Exactly 3 must pass the cluster's limit of 3.
 */
async function sixQueued(service: string, limit: string): Promise<void> {
  const up = startFakeUpstream({ name: "A" });
  up.fault = { kind: "delay", ms: 300 };
  const redis = await startRedis();
  const yaml = replicaYaml(redis.url, up.url, `${service}\n      queue: { max-size: 10, max-wait: 10s }`)
    .replace(
      `base-url: "${up.url}" }`,
      `base-url: "${up.url}", max-concurrency: 1, rate-limit: ${limit} }`,
    );
  const [gw] = await startReplicas(1, yaml);
  try {
    const statuses = await Promise.all(Array.from({ length: 6 }, async (_, i) => {
      await new Promise((r) => setTimeout(r, 40 * i));
      const res = await chat(gw.url);
      await res.body?.cancel();
      return res.status;
    }));
    assert.equal(statuses.filter((s) => s === 200).length, 3, statuses.join(","));
    assert.equal(statuses.filter((s) => s === 429).length, 3, statuses.join(","));
    assert.equal(up.requests.length, 3);
  } finally {
    await stopAll([gw], redis);
    await up.close();
  }
}

Deno.test({
  name: "a replica on Redis: requests that queue for a slot still count against the cluster's service limit",
  ignore,
  // The instance's own limit (never reached) makes the decider decide the service limit together
  // with the first pick; those that queue behind others must be decided all the same.
  fn: () =>
    sixQueued(
      "      rate-limit: { algorithm: token-bucket, capacity: 3, rate: 0.001 }",
      "{ capacity: 100, rate: 100 }",
    ),
});

Deno.test({
  name: "a replica on Redis: a slot handed over from the queue is counted by the cluster's instance limit",
  ignore,
  // Each slot handed over asks Redis: the limit is the cluster's 3, not this replica's share of 1.
  fn: () => sixQueued("", "{ algorithm: fixed-window, capacity: 3, window: 1m }"),
});

Deno.test({
  name: "three replicas: a breaker opened by failures on one rejects on the other two within 1 s",
  ignore,
  async fn() {
    const up = startFakeUpstream({ name: "A" });
    up.fault = { kind: "status", status: 500 };
    const redis = await startRedis();
    const breaker =
      "      circuit-breaker: { failure-threshold: 2, timeout: 30s }\n      retry: { max-attempts: 1 }";
    const gws = await startReplicas(3, replicaYaml(redis.url, up.url, breaker));
    try {
      for (let i = 0; i < 2; i++) await (await chat(gws[0].url)).body?.cancel();
      assert.equal(await breakerOf(gws[0].url), "open");
      const seen = await Promise.all(
        [gws[1], gws[2]].map((g) =>
          within(1000, "breaker open on another replica", async () => (await breakerOf(g.url)) === "open")
        ),
      );
      const before = up.requests.length;
      for (const g of [gws[1], gws[2]]) {
        const res = await chat(g.url);
        assert.equal(res.status, 503);
        await res.body?.cancel();
      }
      assert.equal(up.requests.length, before, "the other replicas sent nothing to the open instance");
      console.log(`breaker propagation: ${seen.map((ms) => ms.toFixed(0)).join(" ms, ")} ms`);
    } finally {
      await stopAll(gws, redis);
      await up.close();
    }
  },
});

Deno.test({
  name:
    "three replicas: half-open admits half-open-max-calls trial calls for the whole cluster, not per replica",
  ignore,
  async fn() {
    const up = startFakeUpstream({ name: "A" });
    up.fault = { kind: "status", status: 500 };
    const redis = await startRedis();
    const breaker = "      circuit-breaker: { failure-threshold: 2, timeout: 1s, success-threshold: 1, " +
      "half-open-max-calls: 2 }\n      retry: { max-attempts: 1 }";
    const gws = await startReplicas(3, replicaYaml(redis.url, up.url, breaker));
    try {
      // Every replica sees the failures itself and opens its own breaker: one of them owns it.
      await Promise.all(gws.flatMap((g) => [0, 1].map(async () => await (await chat(g.url)).body?.cancel())));
      const opened = performance.now();
      for (const g of gws) assert.equal(await breakerOf(g.url), "open");
      // Past the open period (1 s), well before the followers' hold ends: per replica, each would
      // now admit 2 trials (6 in all).
      await new Promise((r) => setTimeout(r, Math.max(0, opened + 1200 - performance.now())));
      up.fault = { kind: "delay", ms: 400 }; // trials stay in flight while the burst arrives
      const before = up.requests.length;
      const statuses = await Promise.all(Array.from({ length: 12 }, async (_, i) => {
        const res = await chat(gws[i % 3].url);
        await res.body?.cancel();
        return res.status;
      }));
      assert.equal(
        up.requests.length - before,
        2,
        `trial calls reaching the instance (${statuses.join(",")})`,
      );
      assert.equal(statuses.filter((s) => s === 200).length, 2);
      assert.equal(statuses.filter((s) => s === 503).length, 10);
    } finally {
      await stopAll(gws, redis);
      await up.close();
    }
  },
});

Deno.test({
  name: "three replicas: an admin change on one is served by the other two within 1 s, with its revision",
  ignore,
  fn: () =>
    withReplicas(3, replicaYaml, async (gws, _redis, up) => {
      await addModel(gws[0], "added", up.url);
      const took = await Promise.all([gws[1], gws[2]].map((g) => serves(g, "added", 1000)));
      console.log(`admin change propagation: ${took.map((ms) => ms.toFixed(0)).join(" ms, ")} ms`);
      const revisions = await Promise.all(
        gws.map(async (g) => (await (await fetch(`${g.url}/readyz`)).json()).revision),
      );
      assert.match(revisions[1], /^1-/);
      assert.equal(revisions[1], revisions[2]);
    }),
});

Deno.test({
  name: "a replica on Redis: an instance's token limit keeps what usage reports, not the estimate",
  ignore,
  fn: async () => {
    const up = startFakeUpstream({ name: "A" });
    const redis = await startRedis();
    // Each request is estimated at 261 tokens (256 of output, no max_tokens) and reports about 20:
    // charged the estimate, the third would not fit in 600; corrected, all five do.
    const yaml = replicaYaml(redis.url, up.url).replace(
      `base-url: "${up.url}" }`,
      `base-url: "${up.url}", rate-limit: { unit: tokens, capacity: 600, rate: 0.001 } }`,
    );
    const [gw] = await startReplicas(1, yaml);
    try {
      const statuses = [];
      for (let i = 0; i < 5; i++) {
        const res = await chat(gw.url);
        await res.body?.cancel();
        statuses.push(res.status);
      }
      assert.deepEqual(statuses, [200, 200, 200, 200, 200]);
    } finally {
      await stopAll([gw], redis);
      await up.close();
    }
  },
});

/** Adds a model named `name` (one instance at `upstream`) through `gw`'s admin API. */
async function addModel(gw: { url: string }, name: string, upstream: string): Promise<void> {
  const res = await fetch(`${gw.url}/admin/services/chat/instances`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ name, "base-url": upstream }),
  });
  assert.equal(res.status, 201, await res.text());
}

/** Waits until `gw` serves model `name`. */
function serves(gw: { url: string }, name: string, limitMs = 3000): Promise<number> {
  return within(limitMs, `model ${name} served`, async () => {
    const r = await chat(gw.url, name);
    await r.body?.cancel();
    return r.status === 200;
  });
}

Deno.test({
  name:
    "two replicas: after Redis restarts empty, revisions go on and the next admin change reaches the other",
  ignore,
  fn: () =>
    withReplicas(2, replicaYaml, async (gws, redis, up) => {
      for (const name of ["one", "two"]) {
        await addModel(gws[0], name, up.url);
        await serves(gws[1], name);
      }
      await redis.stop();
      await redis.restart();
      for (const g of gws) await waitForCount(g, /"msg":"state backend up"/, 2);
      // The replicas put back the document they run, for replicas that start later.
      await within(3000, "revision 2 back in Redis", async () => {
        const out = await new Deno.Command("redis-cli", {
          args: ["-p", String(redis.port), "HGET", "t:config", "rev"],
        }).output();
        return new TextDecoder().decode(out.stdout).trim() === "2";
      });
      // Counting again from 1 in the empty Redis, the other replica (at revision 2) ignored this one.
      await addModel(gws[0], "three", up.url);
      await serves(gws[1], "three");
      const revision = (await (await fetch(`${gws[1].url}/readyz`)).json()).revision;
      assert.match(revision, /^3-/);
    }),
});

Deno.test({
  name: "two replicas: an admin change made while Redis is down reaches the other once Redis is back",
  ignore,
  fn: () =>
    withReplicas(2, replicaYaml, async (gws, redis, up) => {
      await redis.stop();
      for (const g of gws) await waitForCount(g, /"msg":"state backend down"/, 1);
      await addModel(gws[0], "offline", up.url);
      await gws[0].waitFor(/configuration not published/, 5000);
      const before = await chat(gws[1].url, "offline");
      await before.body?.cancel();
      assert.equal(before.status, 404, "not on the other replica while Redis is away");
      await redis.restart();
      await serves(gws[1], "offline", 5000);
      await gws[0].waitFor(/"msg":"configuration published to the cluster"/, 2000);
    }),
});
