/**
 * What happens to replicas when Redis goes away or never was right: killed under load (`local`:
 * nothing fails; `deny`: the documented 503), restarted (the replicas reconnect, resynchronise
 * and count in Redis again), killed while requests queue for a `max-concurrency` slot (`deny`:
 * the slots handed to them come back), asleep past the deadline while a request is decided (the
 * late call is undone in Redis), and at start an unreachable URL, a wrong password, a "Redis"
 * that answers garbage and one that never answers — never a hang.
 */

import assert from "node:assert/strict";
import { chat, replicaYaml, startReplicas, stopAll, waitForCount, within } from "./fakes/replicas.ts";
import { startFakeUpstream } from "./fakes/openai_upstream.ts";
import { postChat } from "./fakes/gateway.ts";
import { runCli, spawnGateway } from "./fakes/process.ts";
import { freePort, redisAvailable, startRedis } from "./fakes/redis_server.ts";

const ignore = !redisAvailable();
const HIGH_LIMIT = "      rate-limit: { algorithm: token-bucket, capacity: 100000, rate: 100000 }";

/** Sends `n` requests, `concurrency` at a time, to the gateways in turn; returns the statuses. */
async function load(urls: string[], n: number, concurrency: number, during?: (i: number) => Promise<void>) {
  const statuses: number[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) {
      const i = next++;
      if (during) await during(i);
      const res = await chat(urls[i % urls.length]);
      statuses.push(res.status);
      await res.body?.cancel();
    }
  }));
  return statuses;
}

/** The value of metric `name` in `/metrics` (its first series, whatever its labels). */
/** The value of metric `name` in `/metrics`, summed over its series (`undefined` when it has none). */
async function metric(url: string, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const values = [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "gm"))].map((m) =>
    Number(m[1])
  );
  return values.length === 0 ? undefined : values.reduce((a, b) => a + b, 0);
}

Deno.test({
  name: "Redis killed under load with on-unavailable local: no request fails; restarted: replicas resync",
  ignore,
  async fn() {
    const up = startFakeUpstream({ name: "A" });
    const redis = await startRedis();
    const gws = await startReplicas(2, replicaYaml(redis.url, up.url, HIGH_LIMIT));
    try {
      const urls = gws.map((g) => g.url);
      const statuses = await load(urls, 300, 8, async (i) => {
        if (i === 100) await redis.stop();
      });
      assert.deepEqual(statuses.filter((s) => s !== 200), [], "every request served");
      assert.equal(statuses.length, 300);
      for (const g of gws) {
        await g.waitFor(/"msg":"state backend down"/, 5000);
        assert.equal(await metric(g.url, "dairouter_state_backend_up"), 0);
      }
      await redis.restart();
      for (const g of gws) await waitForCount(g, /"msg":"state backend up"/, 2);
      for (const g of gws) {
        assert.equal(
          g.lines.filter((l) => l.includes('"msg":"state backend down"')).length,
          1,
          "logged once",
        );
        assert.equal(await metric(g.url, "dairouter_state_backend_up"), 1);
      }
      // Counting happens in the restarted Redis again: a fresh limiter state appears there.
      await load(urls, 4, 2);
      const keys = await new Deno.Command("redis-cli", {
        args: ["-p", String(redis.port), "--scan", "--pattern", "t:rl:*"],
      })
        .output();
      assert.match(new TextDecoder().decode(keys.stdout), /t:rl:service:chat:/);
    } finally {
      await stopAll(gws, redis);
      await up.close();
    }
  },
});

Deno.test({
  name:
    "Redis killed with on-unavailable deny: limited requests get the documented 503 rate_limit_unavailable",
  ignore,
  async fn() {
    const up = startFakeUpstream({ name: "A" });
    const redis = await startRedis();
    const gws = await startReplicas(1, replicaYaml(redis.url, up.url, HIGH_LIMIT, "  on-unavailable: deny"));
    try {
      assert.equal((await load([gws[0].url], 5, 1)).join(), "200,200,200,200,200");
      await redis.stop();
      await gws[0].waitFor(/"msg":"state backend down"/, 5000);
      const res = await chat(gws[0].url);
      assert.equal(res.status, 503);
      assert.equal(res.headers.get("retry-after"), "1");
      const body = await res.json();
      assert.equal(body.error.code, "rate_limit_unavailable");
      assert.equal(body.error.type, "server_error");
    } finally {
      await stopAll(gws, redis);
      await up.close();
    }
  },
});

Deno.test({
  name:
    "Redis killed with on-unavailable deny while requests queue for a max-concurrency: 1 slot: they get the 503, the slot comes back, and once Redis is back the instance serves",
  ignore,
  async fn() {
    const up = startFakeUpstream({ name: "A" });
    const redis = await startRedis();
    // The instance's own limit (never reached) makes each slot the queue hands over ask Redis on
    // its own (`instance()`), after the slot is held. (A first pick is decided together with the
    // request's limits, `decideWith`, which gave its slot back on a throw before the fix too.)
    const yaml = replicaYaml(
      redis.url,
      up.url,
      "      queue: { max-size: 10, max-wait: 1s }",
      "  on-unavailable: deny",
    ).replace(
      `base-url: "${up.url}" }`,
      `base-url: "${up.url}", max-concurrency: 1, rate-limit: { capacity: 100000, rate: 100000 } }`,
    );
    const [gw] = await startReplicas(1, yaml);
    const inFlight = () => metric(gw.url, "dairouter_in_flight_requests");
    try {
      // The one slot, taken while Redis answers: a stream that goes silent after its first chunk.
      up.fault = { kind: "silent-mid-stream", afterChunks: 1 };
      const holder = await postChat(gw.url, { body: { stream: true } });
      assert.equal(holder.status, 200);
      const held = holder.body!.getReader();
      assert.equal((await held.read()).done, false);
      up.fault = { kind: "none" };

      await redis.stop();
      await gw.waitFor(/"msg":"state backend down"/, 5000);
      // Two requests wait for the slot (waiting asks Redis nothing: no request-level limit).
      const queued = [chat(gw.url), chat(gw.url)];
      await within(
        5000,
        "two requests queued",
        async () => (await metric(gw.url, "dairouter_queue_depth")) === 2,
      );
      // The holder leaves: its slot is handed to each waiter in turn, whose instance decision
      // throws (Redis down, deny).
      await held.cancel();
      for (const res of await Promise.all(queued)) {
        assert.equal(res.status, 503);
        assert.equal((await res.json()).error.code, "rate_limit_unavailable");
      }
      assert.equal(await inFlight(), 0, "the slots handed to the refused requests came back");

      await redis.restart();
      await waitForCount(gw, /"msg":"state backend up"/, 2);
      const res = await chat(gw.url);
      assert.equal(res.status, 200, "served, not refused for max-concurrency");
      await res.text();
      await within(5000, "nothing in flight", async () => (await inFlight()) === 0);
      assert.equal(up.requests.length, 2, "the holder and the last request reached the instance");
    } finally {
      await stopAll([gw], redis);
      await up.close();
    }
  },
});

Deno.test({
  name:
    "Redis killed with on-unavailable deny before a retry: the retry's pick of an instance with max-concurrency: 1 gets the 503 and gives its slot back",
  ignore,
  async fn() {
    const ups = [startFakeUpstream({ name: "A" }), startFakeUpstream({ name: "B" })];
    const redis = await startRedis();
    // Whichever instance is picked first answers 500 once Redis is gone; the retry picks the other,
    // whose own limit (never reached) asks Redis on its own for a retry (`instance()`), after its
    // slot is held.
    const fail = Promise.withResolvers<void>();
    for (const u of ups) u.fault = { kind: "status", status: 500, after: fail.promise };
    const limited = (url: string) =>
      `{ name: m, base-url: "${url}", max-concurrency: 1, rate-limit: { capacity: 100000, rate: 100000 } }`;
    const yaml = replicaYaml(redis.url, ups[0].url, "", "  on-unavailable: deny").replace(
      `{ name: m, base-url: "${ups[0].url}" }`,
      `${limited(ups[0].url)}\n        - ${limited(ups[1].url)}`,
    );
    const [gw] = await startReplicas(1, yaml);
    const calls = () => ups[0].requests.length + ups[1].requests.length;
    try {
      const first = chat(gw.url);
      await within(5000, "the first attempt reached its instance", () => Promise.resolve(calls() === 1));
      await redis.stop();
      await gw.waitFor(/"msg":"state backend down"/, 5000);
      fail.resolve();
      const res = await first;
      assert.equal(res.status, 503);
      assert.equal((await res.json()).error.code, "rate_limit_unavailable");
      assert.equal(calls(), 1, "the retry's pick was refused before its call");
      assert.equal(await metric(gw.url, "dairouter_in_flight_requests"), 0, "no slot left held");

      await redis.restart();
      await waitForCount(gw, /"msg":"state backend up"/, 2);
      // Two at once need both slots: with one left held, the second would be refused (no queue).
      for (const u of ups) u.fault = { kind: "delay", ms: 200 };
      const both = await Promise.all([chat(gw.url), chat(gw.url)]);
      for (const r of both) await r.text();
      assert.deepEqual(both.map((r) => r.status), [200, 200], "both instances serve: every slot came back");
    } finally {
      await stopAll([gw], redis);
      for (const u of ups) await u.close();
    }
  },
});

/** Each limiter state's count in `redis` (fixed windows: the last field), by key. */
async function windowCounts(redis: { port: number }): Promise<Record<string, number>> {
  const lua = `local out = {}
for _, k in ipairs(redis.call("KEYS", "t:rl:*")) do
  local s = { cmsgpack.unpack(redis.call("GET", k)) }
  out[#out + 1] = k
  out[#out + 1] = tostring(s[#s])
end
return out`;
  const out = await new Deno.Command("redis-cli", { args: ["-p", String(redis.port), "eval", lua, "0"] })
    .output();
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  const counts: Record<string, number> = {};
  for (let i = 0; i + 1 < lines.length; i += 2) {
    counts[lines[i].replace(/:[0-9a-f]{10}:.*/, "")] = Number(lines[i + 1]);
  }
  return counts;
}

for (const onUnavailable of ["local", "deny"] as const) {
  Deno.test({
    name:
      `a Redis limit call answered after state.timeout (Redis asleep) with on-unavailable ${onUnavailable}: the request is decided without it, and Redis is left as if it had not been made`,
    ignore,
    async fn() {
      const up = startFakeUpstream({ name: "A" });
      const redis = await startRedis({ debug: true });
      // A request limit on the service, and one on the instance (decided in the same call).
      const limit = "rate-limit: { algorithm: fixed-window, capacity: 100, window: 1h, scope: service }";
      const yaml = replicaYaml(redis.url, up.url, `      ${limit}`, `  on-unavailable: ${onUnavailable}`)
        .replace(`base-url: "${up.url}" }`, `base-url: "${up.url}", ${limit} }`);
      const [gw] = await startReplicas(1, yaml);
      const sleeper = await Deno.connect({ hostname: "127.0.0.1", port: redis.port });
      try {
        await gw.waitFor(/"msg":"state backend up"/, 5000);
        const before = await chat(gw.url);
        assert.equal(before.headers.get("x-ratelimit-remaining"), "99");
        await before.text();

        // Redis sleeps for 1 s (the replica's deadline is 200 ms), then runs what was sent meanwhile.
        await sleeper.write(new TextEncoder().encode("DEBUG SLEEP 1\r\n"));
        await new Promise((r) => setTimeout(r, 100));
        const during = await chat(gw.url);
        if (onUnavailable === "deny") {
          assert.equal(during.status, 503);
          assert.equal((await during.json()).error.code, "rate_limit_unavailable");
        } else {
          assert.equal(during.status, 200);
          assert.ok(Number(during.headers.get("x-ratelimit-limit")) < 100, "decided on this replica's share");
          await during.text();
        }
        assert.ok((await sleeper.read(new Uint8Array(16))) !== null, "Redis woke up");

        await within(5000, "Redis used again", async () => {
          const res = await chat(gw.url);
          await res.text();
          return res.headers.get("x-ratelimit-limit") === "100";
        });
        // Two requests counted in Redis: the first and the last; the one decided without it and
        // any refused while the link recovered are not.
        await within(2000, "the late call undone", async () => {
          const counts = await windowCounts(redis);
          return counts["t:rl:service:chat"] === 2 && Object.values(counts).every((n) => n === 2);
        }).catch(async (error) => {
          throw new Error(`${error.message}: ${JSON.stringify(await windowCounts(redis))}`);
        });
      } finally {
        sleeper.close();
        await stopAll([gw], redis);
        await up.close();
      }
    },
  });
}

Deno.test({
  name: "state.url unreachable at start: the gateway starts on per-replica limits at once and says why",
  ignore,
  async fn() {
    const up = startFakeUpstream({ name: "A" });
    const dir = await Deno.makeTempDir();
    await Deno.writeTextFile(
      `${dir}/c.yaml`,
      replicaYaml(`redis://127.0.0.1:${freePort()}`, up.url, HIGH_LIMIT),
    );
    const t0 = performance.now();
    const gw = await spawnGateway(["--config", `${dir}/c.yaml`, "--no-watch"]);
    try {
      assert.ok(performance.now() - t0 < 10_000);
      await gw.waitFor(/"msg":"starting without the shared state backend".*ECONNREFUSED/);
      const res = await chat(gw.url);
      assert.equal(res.status, 200);
      await res.body?.cancel();
    } finally {
      await stopAll([gw], undefined);
      await up.close();
    }
  },
});

Deno.test({
  name: "state.url with a wrong password: the gateway exits 1 with a clear error",
  ignore,
  async fn() {
    const redis = await startRedis({ password: "right-password" });
    try {
      const dir = await Deno.makeTempDir();
      const url = `redis://:wrong-password@127.0.0.1:${redis.port}`;
      await Deno.writeTextFile(`${dir}/c.yaml`, replicaYaml(url, "http://127.0.0.1:9"));
      const res = await runCli([
        "--config",
        `${dir}/c.yaml`,
        "--no-watch",
        "--port",
        "0",
        "--host",
        "127.0.0.1",
      ]);
      assert.equal(res.code, 1);
      assert.match(res.stderr, /Redis refused the credentials of state\.url: WRONGPASS/);
      assert.ok(!res.stderr.includes("wrong-password") && !res.stdout.includes("wrong-password"));
    } finally {
      await redis.stop();
    }
  },
});

/** A TCP server that answers every read with `reply` (or nothing at all). */
function fakeRedis(reply: string | undefined) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  (async () => {
    for await (const conn of listener) {
      conns.push(conn);
      (async () => {
        const buf = new Uint8Array(4096);
        while ((await conn.read(buf)) !== null) {
          if (reply !== undefined) await conn.write(new TextEncoder().encode(reply));
        }
      })().catch(() => {});
    }
  })().catch(() => {});
  return {
    url: `redis://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
    },
  };
}

for (
  const [what, reply] of [["answers garbage", "@@ not RESP @@\r\n"], ["never answers", undefined]] as const
) {
  Deno.test({
    name: `a "Redis" that ${what}: the gateway starts within its connect deadline and serves every request`,
    async fn() {
      const up = startFakeUpstream({ name: "A" });
      const fake = fakeRedis(reply);
      const dir = await Deno.makeTempDir();
      await Deno.writeTextFile(
        `${dir}/c.yaml`,
        replicaYaml(fake.url, up.url, HIGH_LIMIT).replace("timeout: 200ms", "timeout: 20ms"),
      );
      const gw = await spawnGateway(["--config", `${dir}/c.yaml`, "--no-watch"]);
      try {
        await gw.waitFor(/"msg":"starting without the shared state backend"/);
        const t0 = performance.now();
        const statuses = await load([gw.url], 20, 4);
        assert.deepEqual(statuses.filter((s) => s !== 200), []);
        assert.ok(performance.now() - t0 < 5000, "no request waited on the fake Redis");
      } finally {
        await stopAll([gw], undefined);
        fake.close();
        await up.close();
      }
    },
  });
}
