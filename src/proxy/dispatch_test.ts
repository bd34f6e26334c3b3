/**
 * The request path in process, table-driven: failover, upstream and gateway limits, breakers,
 * fallbacks and retry bounds. Each row builds a gateway from a config object in front of scripted
 * upstreams on manual time, sends one request through `gateway.fetch`, and checks the status,
 * the body, the instances tried in order, and that every counter is back to zero.
 */

import assert from "node:assert/strict";
import { type Case, CHAT, harness, runCases, send, serviceConfig, type Step } from "./_testing.ts";

const OK: Step = {
  json: {
    id: "c1",
    object: "chat.completion",
    choices: [{ index: 0, message: { role: "assistant", content: "hello" }, finish_reason: "stop" }],
    usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
  },
};
const E500: Step = { status: 500, json: { error: "boom" } };
const BIG = "x".repeat(1024 * 1024 + 1);

interface ErrorBody {
  error: { message: string; type: string; code: string; param: string | null };
}
/** Asserts OpenAI's error shape with `type` and `code`, and returns the message. */
function openAIError(type: string, code: string, message?: RegExp): (body: unknown) => void {
  return (body) => {
    const e = (body as ErrorBody).error;
    assert.deepEqual(Object.keys(e).sort(), ["code", "message", "param", "type"]);
    assert.equal(e.type, type);
    assert.equal(e.code, code);
    if (message) assert.match(e.message, message);
  };
}
const answeredHello = (body: unknown) =>
  assert.equal((body as { choices: { message: { content: string } }[] }).choices[0].message.content, "hello");

const breaker = (cfg: Record<string, unknown>) => ({ "circuit-breaker": cfg });

const CASES: Case[] = [
  {
    name: "a 500 fails over to the next instance before the client sees anything",
    config: serviceConfig(["a", "b"]),
    script: { a: [E500], b: [OK] },
    status: 200,
    answer: answeredHello,
    tried: ["a", "b"],
    after: (h) => {
      assert.equal(h.upstream("a").breaker.snapshot().failures, 1);
      assert.match(h.logs.at(-1)!, /"status":200.*"retries":1/);
    },
  },
  {
    name: "every instance failing gives 502 upstream_error with the last failure",
    config: serviceConfig(["a", "b"]),
    script: { a: [E500], b: [{ status: 503, body: ["overloaded"] }] },
    status: 502,
    answer: openAIError("upstream_error", "upstream_error", /upstream answered 503: overloaded/),
    tried: ["a", "b"],
  },
  {
    name: "an upstream 429 with Retry-After parks that instance (breaker stays closed) and fails over",
    config: serviceConfig(["a", "b"], breaker({ "failure-threshold": 1 })),
    script: { a: [{ status: 429, headers: { "retry-after": "30" }, json: {} }], b: [OK] },
    status: 200,
    tried: ["a", "b"],
    after: (h) => {
      const a = h.upstream("a").breaker;
      assert.equal(a.state, "closed");
      assert.equal(a.canPass(), false);
      assert.equal(a.parkedUntil, h.time.now() + 30_000);
    },
  },
  {
    name: "every instance answering 429 gives 429 with the last one's Retry-After",
    config: serviceConfig(["a", "b"]),
    script: {
      a: [{ status: 429, json: {} }],
      b: [{ status: 429, headers: { "retry-after": "7" }, json: {} }],
    },
    status: 429,
    headers: { "retry-after": "7" },
    answer: openAIError("rate_limit_error", "rate_limit_exceeded", /every instance is busy/),
    tried: ["a", "b"],
  },
  {
    name: "every instance answering 503 with Retry-After gives 503 with the last one's Retry-After",
    config: serviceConfig(["a", "b"]),
    script: {
      a: [{ status: 503, json: {} }],
      b: [{ status: 503, headers: { "retry-after": "4" }, json: {} }],
    },
    status: 503,
    headers: { "retry-after": "4" },
    answer: openAIError("server_error", "service_unavailable", /every instance is unavailable/),
    tried: ["a", "b"],
  },
  {
    name: "a service limit denies with 429: Retry-After and the message say the same seconds",
    config: serviceConfig(["a"], { "rate-limit": { algorithm: "token-bucket", capacity: 1, rate: 0.4 } }),
    script: { a: [OK] },
    setup: send(1),
    status: 429,
    headers: { "retry-after": "3", "x-ratelimit-limit": "1", "x-ratelimit-remaining": "0" },
    answer: openAIError(
      "rate_limit_error",
      "rate_limit_exceeded",
      /^Rate limit exceeded for service chat; retry after 3 s\.$/,
    ),
    tried: ["a"],
    after: (h) => assert.match(h.logs.at(-1)!, /"status":429/),
  },
  {
    name: "a capacity below 1 can never pass: Retry-After 60 and a message without Infinity",
    config: serviceConfig(["a"], { "rate-limit": { algorithm: "token-bucket", capacity: 0.5, rate: 1 } }),
    script: { a: [OK] },
    status: 429,
    headers: { "retry-after": "60" },
    answer: openAIError("rate_limit_error", "rate_limit_exceeded", /retry after 60 s\.$/),
    tried: [],
  },
  {
    name: "every breaker open gives 503 naming the open circuits, without calling anyone",
    config: serviceConfig(["a", "b"], breaker({ "failure-threshold": 1, timeout: 60_000 })),
    script: { a: [E500], b: [E500] },
    setup: send(1),
    status: 503,
    headers: { "retry-after": "60" },
    answer: openAIError(
      "server_error",
      "service_unavailable",
      /^Service chat has no available instance for model "m" \(2 circuit-open or parked\)\.$/,
    ),
    tried: ["a", "b"],
    after: (h) => assert.equal(h.upstream("a").breaker.state, "open"),
  },
  {
    name: "an instance parked by its own 429 Retry-After: the next request gets 503 with the seconds left",
    config: serviceConfig(["a"]),
    script: { a: [{ status: 429, headers: { "retry-after": "30" }, json: {} }] },
    setup: send(1),
    status: 503,
    headers: { "retry-after": "30" },
    answer: openAIError("server_error", "service_unavailable", /\(1 circuit-open or parked\)\.$/),
    tried: ["a"],
  },
  {
    name: "a half-open trial the client abandons frees its permit",
    config: serviceConfig(
      ["a"],
      breaker({ "failure-threshold": 1, timeout: 1000, "half-open-max-calls": 1 }),
    ),
    script: { a: [E500, "hang"] },
    setup: send(1, 1000),
    drive: async (h, client) => {
      assert.equal(h.upstream("a").breaker.canPass(), false, "the one trial is taken");
      client.abort();
      await h.time.advance(0);
    },
    status: 499,
    tried: ["a", "a"],
    after: (h) => {
      const b = h.upstream("a").breaker;
      assert.equal(b.state, "half_open");
      assert.equal(b.canPass(), true, "the trial permit is free again");
    },
  },
  {
    name: "instances at their own limit are skipped; all at it gives 429 with the soonest Retry-After",
    config: serviceConfig(["a", "b"], {}, "chat", { "rate-limit": { capacity: 1, rate: 0.1 } }),
    script: { a: [OK], b: [OK] },
    setup: send(2),
    status: 429,
    headers: { "retry-after": "10" },
    answer: openAIError(
      "rate_limit_error",
      "rate_limit_exceeded",
      /^Rate limit exceeded for every instance of model "m" on service chat; retry after 10 s\.$/,
    ),
    tried: ["a", "b"],
    after: (h) => {
      for (const l of ["a", "b"]) assert.equal(h.upstream(l).limiter!.peek("instance").allowed, false);
    },
  },
  {
    name: "the fallback cache answers with the last good answer when every instance fails",
    config: serviceConfig(["a", "b"], {
      fallback: { enabled: true, strategy: "cache", "cache-size": 10, "cache-ttl": 60_000 },
    }),
    script: { a: [OK, E500], b: [E500] },
    setup: send(1),
    status: 200,
    headers: { "x-dairouter-fallback": "cache" },
    answer: answeredHello,
    tried: ["a", "b", "a"],
    after: (h) => assert.match(h.logs.at(-1)!, /"fallback":"cache"/),
  },
  {
    name: "the fallback cache keeps no answer over 1 MiB: a larger one reaches the client whole, uncached",
    config: serviceConfig(["a"], {
      fallback: { enabled: true, strategy: "cache", "cache-size": 10, "cache-ttl": 60_000 },
    }),
    script: { a: [{ json: { data: BIG } }, E500] },
    setup: async (h) => {
      const first = await (await h.post(CHAT)).json();
      assert.equal(first.data, BIG, "the large answer, whole");
    },
    status: 502,
    tried: ["a", "a"],
    after: (h) => assert.doesNotMatch(h.logs.at(-1)!, /"fallback":"cache"/),
  },
  {
    name:
      "with the fallback cache, a body cut while it is read for the cache is cut for the client: one access line",
    config: serviceConfig(["a"], {
      fallback: { enabled: true, strategy: "cache", "cache-size": 10, "cache-ttl": 60_000 },
    }),
    script: { a: [{ headers: { "content-type": "application/json" }, body: ['{"choices":', 5, "reset"] }] },
    drive: (h) => h.time.advance(10),
    read: (res) => res.text().then(() => "read whole", (e) => `cut: ${e}`),
    status: 200,
    answer: (body) =>
      assert.match(String(body), /^cut: UpstreamBodyCut: the upstream's answer broke off \(error reading/),
    tried: ["a"],
    after: (h) => {
      const access = h.logs.filter((l) => l.includes('"msg":"access"'));
      assert.equal(access.length, 1, "one access line, not a second 500");
      assert.match(access[0], /"status":200.*"error":"upstream_body"/);
    },
  },
  {
    name: "with the fallback cache, a long answer still flows, and a client that leaves lets the upstream go",
    config: serviceConfig(["a"], {
      fallback: { enabled: true, strategy: "cache", "cache-size": 10, "cache-ttl": 60_000 },
    }),
    script: { a: [{ headers: { "content-type": "audio/mpeg" }, body: [BIG, BIG, "hang"] }] },
    read: async (res) => {
      const reader = res.body!.getReader();
      let got = 0;
      while (got < 2 * BIG.length) got += (await reader.read()).value!.byteLength;
      await reader.cancel();
      return String(got);
    },
    status: 200,
    answer: (body) => assert.equal(body, 2 * BIG.length, "what was read for the cache, then the rest"),
    tried: ["a"],
    after: (h) => assert.equal(h.upstreams.openBodies, 0, "the upstream body was let go"),
  },
  {
    name: "the default fallback answers with the configured response",
    config: serviceConfig(["a"], {
      fallback: { enabled: true, strategy: "default", response: { status: 200, body: { note: "later" } } },
    }),
    script: { a: ["reset"] },
    status: 200,
    headers: { "x-dairouter-fallback": "default" },
    answer: (body) => assert.deepEqual(body, { note: "later" }),
    tried: ["a"],
  },
  {
    // Issue 11, item 18: a 4xx is the client's mistake, never a sign of a broken instance.
    name: "upstream 4xx answers pass through and never count as breaker failures",
    config: serviceConfig(["a"], breaker({ "failure-threshold": 2 })),
    script: { a: [{ status: 400, json: { detail: "bad prompt" } }] },
    setup: send(2),
    status: 400,
    answer: openAIError("invalid_request_error", "upstream_400", /^bad prompt$/),
    tried: ["a", "a", "a"],
    after: (h) => {
      const b = h.upstream("a").breaker;
      assert.equal(b.state, "closed");
      assert.equal(b.snapshot().failures, 0);
    },
  },
  {
    // Issue 11, item 18: max-attempts counts attempts, the first included.
    name: "retry.max-attempts 2 with three failing instances makes exactly two upstream calls",
    config: serviceConfig(["a", "b", "c"], { retry: { "max-attempts": 2 } }),
    script: { a: [E500], b: [E500], c: [OK] },
    status: 502,
    tried: ["a", "b"],
    after: (h) => assert.match(h.logs.at(-1)!, /"retries":1/),
  },
  {
    // Issue 11, item 18: once the budget is spent, no further instance is tried.
    name: "retry.budget stops failing over once spent",
    config: serviceConfig(["a", "b"], {
      retry: { "max-attempts": 3, budget: 1000 },
      timeouts: { connect: 0, "first-byte": 1500 },
    }),
    script: { a: ["hang"], b: [OK] },
    drive: (h) => h.time.advance(1500),
    status: 504,
    answer: openAIError("timeout_error", "upstream_timeout", /upstream first-byte timeout/),
    tried: ["a"],
  },
  {
    name: "within the budget the same timeout fails over",
    config: serviceConfig(["a", "b"], {
      retry: { "max-attempts": 3, budget: 2000 },
      timeouts: { connect: 0, "first-byte": 1500 },
    }),
    script: { a: ["hang"], b: [OK] },
    drive: (h) => h.time.advance(1500),
    status: 200,
    tried: ["a", "b"],
  },
];

runCases("dispatch", CASES);

Deno.test("dispatch: dairouter_retries_total names the instance that failed, as its help says", async () => {
  const h = harness(serviceConfig(["a", "b"]), { a: [E500], b: [OK] });
  assert.equal((await (await h.post(CHAT)).text()).includes("hello"), true);
  const lines = (await h.gateway.metrics.render()).split("\n").filter((l) =>
    l.startsWith("dairouter_retries_total")
  );
  assert.deepEqual(lines, [
    `dairouter_retries_total{service="chat",model="m",instance="${h.upstream("a").id}"} 1`,
  ]);
  h.assertIdle();
});
