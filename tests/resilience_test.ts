/**
 * Fault injection through the running gateway: failover, breakers (injected clock), limiters,
 * parking on Retry-After, fallback, passive and active health, and streams that break.
 */

import assert from "node:assert/strict";
import { manualClock } from "./fakes/manual_schedule.ts";
import OpenAI from "openai";
import { eventually, startGateway, type TestGateway } from "./fakes/gateway.ts";
import { type FakeUpstream, startFakeUpstream } from "./fakes/openai_upstream.ts";

interface Setup {
  gw: TestGateway;
  ups: FakeUpstream[];
  post: (body: unknown, headers?: Record<string, string>, path?: string) => Promise<Response>;
}

async function withSetup(
  opts: {
    n?: number;
    service?: string;
    extra?: string;
    instanceExtra?: (i: number) => string;
    clock?: () => number;
  },
  fn: (s: Setup) => Promise<void>,
) {
  const ups = Array.from(
    { length: opts.n ?? 2 },
    (_, i) => startFakeUpstream({ name: String.fromCharCode(65 + i), chunkDelayMs: 5 }),
  );
  const service = opts.service ?? "chat";
  const instances = ups.map((u, i) => `
        - name: "m"
          base-url: "${u.url}"${opts.instanceExtra?.(i) ?? ""}`).join("");
  const yaml = `
model:
  load-balance:
    type: round-robin
  services:
    ${service}:
${opts.extra ?? ""}
      instances:${instances}
`;
  const gw = startGateway(yaml, { clock: opts.clock });
  const path = service === "chat"
    ? "/v1/chat/completions"
    : service === "rerank"
    ? "/v1/rerank"
    : "/v1/embeddings";
  const post = (body: unknown, headers: Record<string, string> = {}, p = path) =>
    fetch(`${gw.url}${p}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
  try {
    await fn({ gw, ups, post });
  } finally {
    await gw.close();
    for (const u of ups) await u.close().catch(() => {});
  }
}

const chat = { model: "m", messages: [{ role: "user", content: "hi" }] };

Deno.test("a 500 from one instance fails over to the other before the client sees anything", async () => {
  await withSetup({}, async ({ post, ups, gw }) => {
    ups[0].fault = { kind: "status", status: 500 };
    for (let i = 0; i < 4; i++) {
      const res = await post(chat);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("x-upstream-name"), "B");
      await res.body?.cancel();
    }
    assert.ok(gw.logs.some((l) => l.includes('"retries":1')));
  });
});

Deno.test("connection refused, first-byte timeout and a reset before the body all fail over", async () => {
  await withSetup(
    { n: 2, extra: "      timeouts:\n        first-byte: 300\n        connect: 100" },
    async ({ post, ups }) => {
      await ups[0].close();
      for (let i = 0; i < 2; i++) {
        const res = await post(chat);
        assert.equal(res.status, 200);
        await res.body?.cancel();
      }
    },
  );
  await withSetup(
    { n: 2, extra: "      timeouts:\n        first-byte: 300\n        connect: 100" },
    async ({ post, ups }) => {
      ups[0].fault = { kind: "hang" };
      const res = await post(chat);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("x-upstream-name"), "B");
      await res.body?.cancel();
    },
  );
  await withSetup({ n: 2 }, async ({ post, ups }) => {
    ups[0].fault = { kind: "reset-before-body" };
    const res = await post(chat);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-upstream-name"), "B");
    await res.body?.cancel();
  });
});

Deno.test("every instance failing gives 502, a timeout gives 504, nothing available gives 503", async () => {
  await withSetup({ n: 1 }, async ({ post, ups }) => {
    ups[0].fault = { kind: "status", status: 502 };
    const res = await post(chat);
    assert.equal(res.status, 502);
    const body = await res.json();
    assert.equal(body.error.type, "upstream_error");
    assert.match(body.error.message, /upstream answered 502/);
  });
  await withSetup(
    { n: 1, extra: "      timeouts:\n        first-byte: 200\n        connect: 50" },
    async ({ post, ups }) => {
      ups[0].fault = { kind: "hang" };
      const res = await post(chat);
      assert.equal(res.status, 504);
      assert.equal((await res.json()).error.code, "upstream_timeout");
    },
  );
  await withSetup({
    n: 2,
    extra: "      circuit-breaker:\n        failure-threshold: 1\n        timeout: 60000",
  }, async ({ post, ups }) => {
    for (const u of ups) u.fault = { kind: "status", status: 500 };
    assert.equal((await post(chat)).status, 502);
    const res = await post(chat);
    assert.equal(res.status, 503);
    const body = await res.json();
    assert.equal(body.error.code, "service_unavailable");
    assert.match(body.error.message, /Service chat has no available instance for model "m" \(2 circuit-open/);
  });
});

Deno.test("an upstream 4xx is passed through as it came and is not retried", async () => {
  await withSetup({}, async ({ post, ups }) => {
    ups[0].fault = { kind: "status", status: 400 };
    ups[1].fault = { kind: "status", status: 400 };
    const res = await post(chat);
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), { error: { message: "A failed", type: "server_error", code: 400 } });
    assert.equal(ups[0].requests.length + ups[1].requests.length, 1);
  });
});

Deno.test("breaker opens after failureThreshold failures, half-opens after timeout, closes after successes", async () => {
  const clock = manualClock();
  const extra =
    "      circuit-breaker:\n        failureThreshold: 2\n        timeout: 10000\n        successThreshold: 1";
  await withSetup({ clock, extra }, async ({ post, ups, gw }) => {
    ups[0].fault = { kind: "status", status: 500 };
    for (let i = 0; i < 4; i++) await (await post(chat)).body?.cancel();
    const a = gw.gateway.runtime().upstreams[0];
    assert.equal(a.breaker.state, "open");
    const before = ups[0].requests.length;
    for (let i = 0; i < 4; i++) await (await post(chat)).body?.cancel();
    assert.equal(ups[0].requests.length, before, "no traffic reaches an open instance");
    ups[0].fault = { kind: "none" };
    clock.advance(9_999);
    assert.equal(a.breaker.state, "open");
    clock.advance(1);
    assert.equal(a.breaker.state, "half_open");
    for (let i = 0; i < 2; i++) await (await post(chat)).body?.cancel();
    assert.equal(ups[0].requests.length, before + 1, "one trial reached A");
    assert.equal(a.breaker.state, "closed");
    assert.ok(gw.logs.some((l) => l.includes("circuit breaker state changed") && l.includes('"to":"open"')));
  });
});

Deno.test("an upstream 429 with Retry-After parks the instance without opening its breaker", async () => {
  const clock = manualClock();
  await withSetup(
    { clock, extra: "      circuit-breaker:\n        failureThreshold: 1" },
    async ({ post, ups, gw }) => {
      ups[0].fault = { kind: "status", status: 429, retryAfter: "30" };
      const res = await post(chat);
      assert.equal(res.status, 200);
      await res.body?.cancel();
      const a = gw.gateway.runtime().upstreams[0];
      assert.equal(a.breaker.state, "closed");
      assert.equal(a.breaker.canPass(), false);
      ups[0].fault = { kind: "none" };
      clock.advance(30_000);
      assert.equal(a.breaker.canPass(), true);
    },
  );
});

Deno.test("service rate limit: 429 with Retry-After, X-RateLimit headers and rate_limit_exceeded", async () => {
  const clock = manualClock();
  const extra = "      rate-limit:\n        algorithm: token-bucket\n        capacity: 2\n        rate: 1";
  await withSetup({ clock, extra }, async ({ post }) => {
    for (let i = 0; i < 2; i++) {
      const ok = await post(chat);
      assert.equal(ok.status, 200);
      assert.equal(ok.headers.get("x-ratelimit-limit"), "2");
      await ok.body?.cancel();
    }
    const denied = await post(chat);
    assert.equal(denied.status, 429);
    assert.equal(denied.headers.get("retry-after"), "1");
    assert.equal(denied.headers.get("x-ratelimit-remaining"), "0");
    const body = await denied.json();
    assert.equal(body.error.code, "rate_limit_exceeded");
    clock.advance(1000);
    const again = await post(chat);
    assert.equal(again.status, 200);
    await again.body?.cancel();
  });
});

Deno.test("an instance at its own limit is skipped for another before the client sees 429", async () => {
  const clock = manualClock();
  const limit = "\n          rate-limit:\n            capacity: 1\n            rate: 0.001";
  await withSetup({ clock, instanceExtra: () => limit }, async ({ post, ups }) => {
    const names = [];
    for (let i = 0; i < 2; i++) {
      const res = await post(chat);
      assert.equal(res.status, 200);
      names.push(res.headers.get("x-upstream-name"));
      await res.body?.cancel();
    }
    assert.deepEqual(names.sort(), ["A", "B"]);
    const third = await post(chat);
    assert.equal(third.status, 429);
    assert.ok(Number(third.headers.get("retry-after")) >= 1);
    await third.body?.cancel();
    assert.equal(ups[0].requests.length + ups[1].requests.length, 2);
  });
});

Deno.test("a stream that breaks after its first chunk ends with an SSE error event, never a hang", async () => {
  await withSetup({ n: 1 }, async ({ gw, ups }) => {
    ups[0].fault = { kind: "reset-mid-stream", afterChunks: 2 };
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "x", maxRetries: 0 });
    const stream = await client.chat.completions.create(
      { ...chat, stream: true } as never,
    ) as unknown as AsyncIterable<unknown>;
    const got: unknown[] = [];
    await assert.rejects(async () => {
      for await (const c of stream) got.push(c);
    }, /Upstream stream ended abnormally/);
    assert.equal(got.length, 2);
    await eventually(() => gw.gateway.runtime().upstreams[0].stats.inFlight === 0, "in-flight released");
  });
});

Deno.test("fallback cache serves the last good rerank answer when every instance is down", async () => {
  const extra =
    "      fallback:\n        enabled: true\n        strategy: cache\n        cache-size: 10\n        cache-ttl: 60000";
  await withSetup({ service: "rerank", extra }, async ({ post, ups }) => {
    const req = { model: "m", query: "q", documents: ["a", "b"] };
    const first = await post(req);
    assert.equal(first.status, 200);
    const good = await first.json();
    for (const u of ups) u.fault = { kind: "status", status: 500 };
    const res = await post(req);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-dairouter-fallback"), "cache");
    assert.deepEqual(await res.json(), good);
    const other = await post({ ...req, query: "different" });
    assert.equal(other.status, 502);
    await other.body?.cancel();
  });
});

Deno.test("passive health ejects an instance after consecutive failures; a probe brings it back", async () => {
  const extra =
    "      health-check:\n        passive-failures: 2\n      circuit-breaker:\n        enabled: false";
  await withSetup({ extra }, async ({ post, ups, gw }) => {
    ups[0].fault = { kind: "status", status: 500 };
    for (let i = 0; i < 4; i++) await (await post(chat)).body?.cancel();
    const a = gw.gateway.runtime().upstreams[0];
    assert.equal(a.health.healthy, false);
    const before = ups[0].requests.length;
    for (let i = 0; i < 3; i++) await (await post(chat)).body?.cancel();
    assert.equal(ups[0].requests.length, before);
    ups[0].fault = { kind: "none" };
    // Recovery comes through the active probe.
    a.health.probeResult(true);
    assert.equal(a.health.healthy, true);
    assert.ok(gw.logs.some((l) => l.includes("instance ejected")));
  });
});

Deno.test("killing one of three upstreams under sustained load: requests not yet started all succeed", async () => {
  const extra = "      health-check:\n        passive-failures: 1\n      retry:\n        max-attempts: 3";
  await withSetup({ n: 3, extra }, async ({ post, ups, gw }) => {
    let failures = 0, done = 0;
    const worker = async () => {
      for (let i = 0; i < 40; i++) {
        const res = await post(chat);
        if (res.status !== 200) failures++;
        await res.body?.cancel();
        done++;
      }
    };
    const load = Promise.all(Array.from({ length: 8 }, worker));
    await eventually(() => done >= 40, "load running");
    await ups[1].close();
    await load;
    assert.equal(failures, 0);
    assert.equal(done, 320);
    for (const u of gw.gateway.runtime().upstreams) assert.equal(u.stats.inFlight, 0);
  });
});
