/**
 * Cross-model fallback chains in process, table-driven: when no instance of a model can take a
 * request (ejected, circuit open, at its limit, failed), the next model of its chain answers and
 * says so (header, `model` field, access log, metrics); never for a client that forbids
 * substitution, never to a model its key may not use, never beyond the retry budget.
 */

import assert from "node:assert/strict";
import { type Case, type Harness, runCases, ScriptedUpstreams, type Step } from "./_testing.ts";

/** An answer naming the model the upstream was sent (as backends do). */
const answer = (model: string): Step => ({
  json: {
    id: "c1",
    object: "chat.completion",
    model,
    choices: [{ index: 0, message: { role: "assistant", content: `from ${model}` }, finish_reason: "stop" }],
    usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
  },
});
const E500: Step = { status: 500, json: { error: "boom" } };
const KEY = "sk-catalogue-test-key-0123";

/** Chat models `m` (instance a), `m2` (b), `m3` (c); `m` falls back to `m2`, then `m3`. */
function chainConfig(
  opts: {
    model?: Record<string, unknown>;
    service?: Record<string, unknown>;
    b?: Record<string, unknown>;
    root?: Record<string, unknown>;
  } = {},
): unknown {
  return {
    ...opts.root,
    model: {
      fallbacks: { m: ["m2", "m3"] },
      ...opts.model,
      services: {
        chat: {
          "load-balance": { type: "round-robin" },
          "health-check": { enabled: false },
          "circuit-breaker": { "failure-threshold": 1 },
          ...opts.service,
          instances: [
            { name: "m", "base-url": ScriptedUpstreams.url("a") },
            { name: "m2", "base-url": ScriptedUpstreams.url("b"), ...opts.b },
            { name: "m3", "base-url": ScriptedUpstreams.url("c") },
          ],
        },
      },
    },
  };
}

const eject = (label: string) => (h: Harness) => Promise.resolve(h.upstream(label).health.eject("test"));
const content = (body: unknown) =>
  (body as { choices: { message: { content: string } }[] }).choices[0].message.content;
const modelOf = (body: unknown) => (body as { model: string }).model;
const SCRIPT = { a: [answer("m")], b: [answer("m2")], c: [answer("m3")] };

async function fallbacksCounted(h: Harness): Promise<string> {
  return (await h.gateway.metrics.render()).split("\n").filter((l) =>
    l.startsWith("dairouter_fallbacks_total")
  )
    .join("\n");
}

const CASES: Case[] = [
  {
    name: "a model whose only instance is ejected is answered by the next model of its chain, which says so",
    config: chainConfig(),
    script: SCRIPT,
    setup: eject("a"),
    status: 200,
    headers: { "x-dairouter-model": "m2", "x-dairouter-fallback": "model" },
    answer: (body) => assert.deepEqual([modelOf(body), content(body)], ["m2", "from m2"]),
    tried: ["b"],
    after: (h) => {
      const line = JSON.parse(h.logs.at(-1)!);
      assert.deepEqual([line.model, line.fallback, line.status], ["m2", "model", 200]);
    },
  },
  {
    name: "circuit open on the first model and the second at its instance limit: the third answers",
    config: chainConfig({ b: { "rate-limit": { capacity: 1, rate: 0.001 } } }),
    script: { a: [E500], b: [answer("m2")], c: [answer("m3")] },
    setup: async (h) => {
      h.upstream("a").breaker.onFailure(); // failure-threshold 1: open
      h.upstream("b").limiter!.take("instance"); // its one token spent
      await Promise.resolve();
    },
    status: 200,
    headers: { "x-dairouter-model": "m3", "x-dairouter-fallback": "model" },
    answer: (body) => assert.equal(modelOf(body), "m3"),
    tried: ["c"],
  },
  {
    name: "a model whose instance failed (500) moves on to the next model within the retry budget",
    config: chainConfig(),
    script: { a: [E500], b: [answer("m2")], c: [answer("m3")] },
    status: 200,
    answer: (body) => assert.equal(content(body), "from m2"),
    tried: ["a", "b"],
  },
  {
    name: "no model fallback once retry.max-attempts is spent: the failure is the answer",
    config: chainConfig({ service: { retry: { "max-attempts": 1 } } }),
    script: { a: [E500], b: [answer("m2")], c: [answer("m3")] },
    status: 502,
    tried: ["a"],
  },
  {
    name: "X-DAiRouter-No-Substitute forbids the chain: 503 that says why",
    config: chainConfig(),
    script: SCRIPT,
    setup: eject("a"),
    post: { headers: { "x-dairouter-no-substitute": "true" } },
    status: 503,
    answer: (body) =>
      assert.match(
        (body as { error: { message: string } }).error.message,
        /model "m" \(1 unhealthy\); its fallbacks "m2", "m3" were not tried: the request forbids substitution/,
      ),
    tried: [],
  },
  {
    name: "X-DAiRouter-No-Substitute: false is no refusal",
    config: chainConfig(),
    script: SCRIPT,
    setup: eject("a"),
    post: { headers: { "x-dairouter-no-substitute": "false" } },
    status: 200,
    tried: ["b"],
  },
  {
    name: "a model the client's key may not use is skipped in the chain",
    config: chainConfig({
      root: { auth: { enabled: true, keys: [{ name: "ci", key: KEY, models: ["m", "m3"] }] } },
    }),
    script: SCRIPT,
    setup: eject("a"),
    post: { headers: { authorization: `Bearer ${KEY}` } },
    status: 200,
    headers: { "x-dairouter-model": "m3" },
    tried: ["c"],
  },
  {
    name: "every model of the chain down: 503 naming the model and its fallbacks",
    config: chainConfig(),
    script: SCRIPT,
    setup: async (h) => {
      for (const l of ["a", "b", "c"]) await eject(l)(h);
    },
    status: 503,
    answer: (body) =>
      assert.match(
        (body as { error: { message: string } }).error.message,
        /no available instance for model "m" \(3 unhealthy\), nor for its fallbacks "m2", "m3"\./,
      ),
    tried: [],
  },
  {
    name: "an alias routes to its model and follows that model's chain",
    config: chainConfig({ model: { aliases: { "gpt-4o-mini": "m" } } }),
    script: SCRIPT,
    setup: eject("a"),
    request: { model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] },
    status: 200,
    headers: { "x-dairouter-model": "m2", "x-dairouter-fallback": "model" },
    tried: ["b"],
    after: (h) =>
      assert.equal(JSON.parse(h.upstreams.calls[0].body).model, "m2", "the body names the model sent"),
  },
  {
    name: "a service's own chain replaces the global one for that model",
    config: chainConfig({ service: { fallbacks: { m: ["m3"] } } }),
    script: SCRIPT,
    setup: eject("a"),
    status: 200,
    headers: { "x-dairouter-model": "m3" },
    tried: ["c"],
  },
  {
    name: "the fallback model's upstream-model goes up, and its public name comes back",
    config: chainConfig({ b: { "upstream-model": "Org/M2-Instruct" } }),
    script: { a: [answer("m")], b: [answer("Org/M2-Instruct")], c: [answer("m3")] },
    setup: eject("a"),
    status: 200,
    answer: (body) => assert.equal(modelOf(body), "m2"),
    tried: ["b"],
    after: (h) => assert.equal(JSON.parse(h.upstreams.calls[0].body).model, "Org/M2-Instruct"),
  },
  {
    name: "a model that answers needs no chain: no header, body untouched",
    config: chainConfig(),
    script: SCRIPT,
    status: 200,
    answer: (body) => assert.equal(modelOf(body), "m"),
    tried: ["a"],
    after: (h) => {
      assert.equal(JSON.parse(h.logs.at(-1)!).fallback, null);
      assert.equal(
        h.upstreams.calls[0].body,
        JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] }),
      );
    },
  },
];

runCases("model fallback", CASES);

Deno.test("model fallback: dairouter_fallbacks_total counts an answer from the chain once, under the model asked for", async () => {
  const { harness } = await import("./_testing.ts");
  const h = harness(chainConfig(), SCRIPT);
  h.upstream("a").health.eject("test");
  h.upstream("b").health.eject("test");
  const res = await h.post({ model: "m", messages: [] });
  assert.equal(res.status, 200);
  await res.text();
  assert.equal(
    await fallbacksCounted(h),
    'dairouter_fallbacks_total{service="chat",model="m",strategy="model"} 1',
  );
  h.assertIdle();
});

Deno.test("fallback cache and default answers are counted under the model served, not the name a client sent", async () => {
  const { harness, serviceConfig } = await import("./_testing.ts");
  const cases = [
    // The cache answers the identical request only; the default answers any.
    { fallback: { strategy: "cache" }, sent: ["gpt-0", "gpt-0", "gpt-0"] },
    {
      fallback: { strategy: "default", response: { status: 200, body: {} } },
      sent: ["gpt-0", "gpt-1", "gpt-2"],
    },
  ];
  for (const { fallback, sent } of cases) {
    const config = serviceConfig(["a"], {
      fallback: { enabled: true, ...fallback },
      "circuit-breaker": { enabled: false },
    }) as { model: Record<string, unknown> };
    // A pattern alias admits any name: one series per name sent would grow without bound.
    config.model.aliases = { "gpt-*": "m" };
    const h = harness(config, { a: [answer("m"), E500, E500] });
    for (const model of sent) await (await h.post({ model, messages: [] })).text();
    assert.equal(
      await fallbacksCounted(h),
      `dairouter_fallbacks_total{service="chat",model="m",strategy="${fallback.strategy}"} 2`,
    );
    h.assertIdle();
  }
});
