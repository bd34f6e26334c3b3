/**
 * The cluster decider through the real request path (in process, manual time), over the memory
 * backend behind an asynchronous, counting wrapper standing in for Redis: one call per request
 * with the first instance's own limit folded in, the answers and their order as in process.
 */

import assert from "node:assert/strict";
import { createMemoryLimits, type LimitBackend, type LimitCheck } from "../limiter/backend.ts";
import { CHAT, harness, serviceConfig, settle } from "../proxy/_testing.ts";
import { clusterDecider } from "./decider.ts";
import { createClusterLimits } from "./limits.ts";

const OK = { json: { id: "c1", choices: [] } };
const errorOf = (body: unknown) => (body as { error: { code: string; message: string } }).error;

/** The memory backend, answering on a later microtask, with every call's scopes and extras. */
function countingBackend(): LimitBackend & { calls: string[][] } {
  const memory = createMemoryLimits(() => 0);
  const calls: string[][] = [];
  const names = (list: readonly LimitCheck[] = []) => list.map((c) => c.name);
  return {
    calls,
    async decide(checks, extra) {
      calls.push([...names(checks), ...names(extra).map((n) => `+${n}`)]);
      await Promise.resolve();
      return memory.decide(checks, extra);
    },
    rewarm: (checks) => memory.rewarm(checks),
  };
}

const config = serviceConfig(["a", "b"], {
  "rate-limit": { algorithm: "token-bucket", capacity: 3, rate: 0.0001 },
});
const limited = (config as { model: { services: { chat: { instances: Record<string, unknown>[] } } } })
  .model.services.chat.instances;
limited[0]["rate-limit"] = { algorithm: "token-bucket", capacity: 1, rate: 0.0001 };

Deno.test("clusterDecider(): the request's scopes and its first instance's limit in one call; a denial as in process", async () => {
  const backend = countingBackend();
  const decider = clusterDecider(createClusterLimits({ backend, up: () => true, onUnavailable: "deny" }));
  const h = harness(config, { a: [OK], b: [OK] }, decider);
  const statuses = [];
  for (let i = 0; i < 4; i++) {
    const res = await h.post(CHAT);
    statuses.push(res.status);
    if (res.status === 429) {
      assert.equal(
        errorOf(await res.json()).message,
        "Rate limit exceeded for service chat; retry after 10000 s.",
      );
    } else await res.body?.cancel();
  }
  await settle();
  assert.deepEqual(statuses, [200, 200, 200, 429]);
  // a, b, then a refused by its own limit (in the same call) so b, then the service limit
  // (decided with b, picked fourth, which has no limit of its own).
  assert.deepEqual(h.upstreams.tried, ["a", "b", "b"]);
  assert.deepEqual(backend.calls, [
    ["service:chat", "+instance:chat/m@http://127.0.0.1:9001"],
    ["service:chat"],
    ["service:chat", "+instance:chat/m@http://127.0.0.1:9001"],
    ["service:chat"],
  ]);
  h.assertIdle();
});

Deno.test("clusterDecider(): a retry on another instance with a limit asks for that instance alone", async () => {
  const backend = countingBackend();
  const decider = clusterDecider(createClusterLimits({ backend, up: () => true, onUnavailable: "deny" }));
  const both = structuredClone(config) as typeof config;
  const instances = (both as { model: { services: { chat: { instances: Record<string, unknown>[] } } } })
    .model.services.chat.instances;
  instances[1]["rate-limit"] = { algorithm: "token-bucket", capacity: 5, rate: 0.0001 };
  const h = harness(both, { a: [{ status: 500, json: { error: "boom" } }], b: [OK] }, decider);
  const res = await h.post(CHAT);
  assert.equal(res.status, 200);
  await res.body?.cancel();
  await settle();
  assert.deepEqual(h.upstreams.tried, ["a", "b"]);
  assert.deepEqual(backend.calls, [
    ["service:chat", "+instance:chat/m@http://127.0.0.1:9001"],
    ["+instance:chat/m@http://127.0.0.1:9002"],
  ]);
  h.assertIdle();
});

/** The memory backend answering on a later microtask, with the names and costs of every `adjust`. */
function adjustingBackend(): LimitBackend & {
  memory: ReturnType<typeof createMemoryLimits>;
  adjusted: string[];
} {
  const memory = createMemoryLimits(() => 0);
  const adjusted: string[] = [];
  return {
    memory,
    adjusted,
    decide: (checks, extra) => Promise.resolve(memory.decide(checks, extra)),
    adjust(checks, at) {
      adjusted.push(...checks.map((c) => `${c.name} ${c.cost ?? 0}`));
      memory.adjust!(checks, at);
    },
    rewarm: (checks) => memory.rewarm(checks),
  };
}
const used = { json: { choices: [], usage: { prompt_tokens: 40, completion_tokens: 10 } } };

Deno.test("clusterDecider(): a token limit is charged the estimate in the shared call, then corrected by the usage", async () => {
  const backend = adjustingBackend();
  const { memory, adjusted } = backend;
  const decider = clusterDecider(createClusterLimits({ backend, up: () => true, onUnavailable: "deny" }));
  const h = harness(
    serviceConfig(["a"], { "rate-limit": { unit: "tokens", capacity: 1000, rate: 0.0001 } }),
    { a: [used, { status: 500, json: {} }] },
    decider,
  );
  // "hi" (1 token) + 4 for the message + 256 of output assumed: 261 estimated.
  assert.equal((await h.post(CHAT)).status, 200);
  await settle();
  assert.equal((await h.post(CHAT)).status, 502);
  await settle();
  assert.deepEqual(adjusted, [`service:chat ${50 - 261}`, "service:chat -261"], "corrected, then refunded");
  const check = { scope: "service", name: "service:chat", key: "service" } as const;
  const config = h.gateway.runtime().services.chat.config.rateLimit!;
  assert.equal(memory.decide([{ ...check, config, cost: 950 }]).denied, -1, "950 of 1000 left");
  h.assertIdle();
});

Deno.test("clusterDecider(): an instance's token limit is corrected in the backend that took the estimate", async () => {
  const backend = adjustingBackend();
  const decider = clusterDecider(createClusterLimits({ backend, up: () => true, onUnavailable: "deny" }));
  const config = serviceConfig(["a"]);
  const instance = (config as { model: { services: { chat: { instances: Record<string, unknown>[] } } } })
    .model.services.chat.instances[0];
  instance["rate-limit"] = { unit: "tokens", capacity: 1000, rate: 0.0001 };
  const h = harness(config, { a: [used, { status: 500, json: {} }] }, decider);
  assert.equal((await h.post(CHAT)).status, 200);
  await settle();
  assert.equal((await h.post(CHAT)).status, 502);
  await settle();
  const name = "instance:chat/m@http://127.0.0.1:9001";
  assert.deepEqual(backend.adjusted, [`${name} ${50 - 261}`, `${name} -261`], "corrected, then refunded");
  const u = h.gateway.runtime().upstreams[0];
  const check = { scope: "instance", name, key: "instance", config: u.config.rateLimit! } as const;
  assert.equal(backend.memory.decide([], [{ ...check, cost: 950 }]).extra[0]?.allowed, true, "950 left");
  assert.equal(backend.memory.decide([], [{ ...check, cost: 1 }]).extra[0]?.allowed, false, "then none");
  // The in-process limiter (the fallback while the backend is away) took nothing, so gives nothing.
  assert.equal(u.limiter!.peek("instance", u.limiter!.config.capacity).allowed, true);
  assert.equal(u.limiter!.peek("instance", u.limiter!.config.capacity + 1).allowed, false);
  h.assertIdle();
});
