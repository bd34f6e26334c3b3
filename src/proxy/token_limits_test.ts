/**
 * Token-aware limits on the request path, in process on manual time: `rate-limit.unit: tokens` at
 * the service, API-key and instance levels reserves the request's estimated tokens before the
 * call, corrects them from the reported `usage` after it (streams included), and refunds them
 * when no answer came. Each row checks what is left in the limiter afterwards (time never moves,
 * so nothing refills behind the test's back).
 */

import assert from "node:assert/strict";
import type { Decision } from "../types.ts";
import { localLimits } from "./access.ts";
import { type Case, type Harness, harness, runCases, send, serviceConfig, type Step } from "./_testing.ts";
import type { ScopeDecider } from "./request.ts";

/** 400 characters of prompt (100 tokens) + 4 for the message + max_tokens 100: 204 estimated. */
const ASK = Object.freeze({
  model: "m",
  max_tokens: 100,
  messages: [{ role: "user", content: "x".repeat(400) }],
});
const ESTIMATE = 204;
const used = (prompt: number, completion: number): Step => ({
  json: {
    choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
    usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
  },
});
const E500: Step = { status: 500, json: { error: "boom" } };
const tokens = (capacity: number, rate = 1) => ({ "rate-limit": { unit: "tokens", capacity, rate } });

/** Asserts that exactly `left` tokens can be taken from `limiter` now. */
function assertLeft(limiter: { peek(key: string, cost: number): Decision }, key: string, left: number): void {
  assert.equal(limiter.peek(key, left).allowed, true, `${left} tokens left`);
  assert.equal(limiter.peek(key, left + 1).allowed, false, `not ${left + 1}`);
}
const service = (h: Harness) => h.gateway.runtime().services.chat.limiter!;

const CASES: Case[] = [
  {
    name: "a service token limit reserves the estimate, then keeps what usage reports",
    config: serviceConfig(["a"], tokens(1000)),
    script: { a: [used(50, 20)] },
    request: ASK,
    status: 200,
    tried: ["a"],
    after: (h) => assertLeft(service(h), "service", 1000 - 70),
  },
  {
    name: "a request that cost more than estimated puts the limit into debt; the next one waits for it",
    config: serviceConfig(["a"], tokens(250, 10)),
    script: { a: [used(250, 50)] },
    setup: send(1, 0, ASK),
    request: ASK,
    status: 429,
    // 250 − 300 = −50: the next 204 need 254 tokens at 10/s.
    headers: { "retry-after": "26" },
    tried: ["a"],
  },
  {
    name: "every instance failing refunds the whole reservation",
    config: serviceConfig(["a", "b"], tokens(1000)),
    script: { a: [E500], b: [E500] },
    request: ASK,
    status: 502,
    tried: ["a", "b"],
    after: (h) => assertLeft(service(h), "service", 1000),
  },
  {
    name: "an answer without usage leaves the estimate charged",
    config: serviceConfig(["a"], tokens(1000)),
    script: { a: [{ json: { choices: [] } }] },
    request: ASK,
    status: 200,
    tried: ["a"],
    after: (h) => assertLeft(service(h), "service", 1000 - ESTIMATE),
  },
  {
    name: "a stream is corrected from the usage in its last event",
    config: serviceConfig(["a"], tokens(1000)),
    script: {
      a: [{
        body: [
          'data: {"choices":[{"index":0,"delta":{"content":"hi"}}]}\n\n',
          'data: {"choices":[],"usage":{"prompt_tokens":100,"completion_tokens":9,"total_tokens":109}}\n\n',
          "data: [DONE]\n\n",
        ],
      }],
    },
    request: { ...ASK, stream: true },
    status: 200,
    tried: ["a"],
    after: (h) => assertLeft(service(h), "service", 1000 - 109),
  },
  {
    name: "a client that leaves a stream midway keeps the estimate charged",
    config: serviceConfig(["a"], tokens(1000)),
    script: { a: [{ body: ['data: {"choices":[]}\n\n', 1000, "data: [DONE]\n\n"] }] },
    request: { ...ASK, stream: true },
    read: async (res, h, client) => {
      const reader = res.body!.getReader();
      await reader.read();
      client.abort();
      await reader.cancel();
      await h.time.advance(0);
      return "";
    },
    status: 200,
    tried: ["a"],
    after: (h) => assertLeft(service(h), "service", 1000 - ESTIMATE),
  },
  {
    name: "an instance token limit charges the instance that answered and refunds the one that failed",
    config: serviceConfig(["a", "b"], {}, "chat", tokens(1000)),
    script: { a: [E500], b: [used(60, 10)] },
    request: ASK,
    status: 200,
    tried: ["a", "b"],
    after: (h) => {
      assertLeft(h.upstream("a").limiter!, "instance", 1000);
      assertLeft(h.upstream("b").limiter!, "instance", 1000 - 70);
    },
  },
  {
    name: "an instance whose token limit is spent is skipped for one with room",
    config: serviceConfig(["a", "b"], {}, "chat", tokens(300)),
    script: { a: [used(290, 0)], b: [used(10, 0)] },
    setup: send(1, 0, ASK),
    request: ASK,
    status: 200,
    tried: ["a", "b"],
    after: (h) => {
      assertLeft(h.upstream("a").limiter!, "instance", 10);
      assertLeft(h.upstream("b").limiter!, "instance", 290);
    },
  },
];

runCases("token limits", CASES);

const KEYS = {
  keys: [
    { name: "metered", key: "metered-key-0001", "rate-limit": { unit: "tokens", capacity: 500, rate: 1 } },
    { name: "other", key: "other-key-000001" },
  ],
};
const bearer = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });

Deno.test("token limits: per API key, and a denial further on gives back what the key's limit took", async () => {
  const config = {
    ...serviceConfig(["a"], { "rate-limit": { capacity: 1, rate: 0.001 } }) as Record<string, unknown>,
    auth: KEYS,
  };
  const h = harness(config, { a: [used(100, 20)] });
  const key = h.gateway.runtime().keyLimiters.get("metered")!;
  assert.equal((await h.post(ASK, bearer("metered-key-0001"))).status, 200);
  assertLeft(key, "metered", 500 - 120);
  // The service's own limit (1 request) is spent: denied there, and the key's tokens come back.
  const denied = await h.post(ASK, bearer("metered-key-0001"));
  assert.equal(denied.status, 429);
  assert.match((await denied.json()).error.message, /service chat/);
  assertLeft(key, "metered", 500 - 120);
  h.assertIdle();
});

Deno.test("token limits: a ScopeDecider gets the estimate with decide() and one correct() with the difference", async () => {
  const calls: string[] = [];
  const cluster: ScopeDecider = {
    decide(rt, svc, req, estimate) {
      calls.push(`decide ${estimate}`);
      return localLimits.decide(rt, svc, req, estimate);
    },
    correct(admission, delta) {
      calls.push(`correct ${delta}`);
      return Promise.resolve(localLimits.correct!(admission, delta));
    },
  };
  const h = harness(serviceConfig(["a"], tokens(1000)), { a: [used(30, 5), E500] }, cluster);
  assert.equal((await h.post(ASK)).status, 200);
  assert.equal((await h.post(ASK)).status, 502);
  assert.deepEqual(calls, [
    `decide ${ESTIMATE}`,
    `correct ${35 - ESTIMATE}`,
    `decide ${ESTIMATE}`,
    `correct -${ESTIMATE}`,
  ]);
  assertLeft(service(h), "service", 1000 - 35);
  h.assertIdle();
});

Deno.test("token limits: services without token limits never estimate (no correct() call either)", async () => {
  const calls: string[] = [];
  const counting: ScopeDecider = {
    decide(rt, svc, req, estimate) {
      calls.push(`decide ${estimate}`);
      return localLimits.decide(rt, svc, req, estimate);
    },
    correct: () => void calls.push("correct"),
  };
  const h = harness(
    serviceConfig(["a"], { "rate-limit": { capacity: 10, rate: 1 } }),
    { a: [used(30, 5)] },
    counting,
  );
  assert.equal((await h.post(ASK)).status, 200);
  assert.deepEqual(calls, ["decide 0"]);
  h.assertIdle();
});
