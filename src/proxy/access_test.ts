/**
 * Access and limit decisions in process: the API key (401), its model list (403), the model
 * (404), the key's own limit (429), their order, and the `ScopeDecider` seam through which a
 * cluster-wide backend decides every request-level scope in one call.
 */

import assert from "node:assert/strict";
import type { Decision } from "../types.ts";
import { type Case, CHAT, harness, runCases, send, serviceConfig, settle } from "./_testing.ts";
import { parseConfig } from "../config/load.ts";
import { localLimits } from "./access.ts";
import type { ScopeDecider } from "./request.ts";

const OK = { json: { id: "c1", choices: [] } };
const FULL = "sk-full-0001";
const ONLY_M = "sk-only-m-0002";
const THROTTLED = "sk-throttled-0003";

const config = {
  ...(serviceConfig(["a"]) as object),
  auth: {
    keys: [
      { name: "full", key: FULL },
      { name: "only-m", key: ONLY_M, models: ["m"] },
      {
        name: "throttled",
        key: THROTTLED,
        "rate-limit": { algorithm: "token-bucket", capacity: 1, rate: 0.5 },
      },
    ],
  },
};
const bearer = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });
const errorOf = (body: unknown) => (body as { error: { type: string; code: string; message: string } }).error;

const CASES: Case[] = [
  {
    name: "no key: 401 in OpenAI's shape, nothing sent upstream",
    config,
    script: { a: [OK] },
    status: 401,
    headers: { "www-authenticate": "Bearer" },
    answer: (body) => assert.equal(errorOf(body).code, "invalid_api_key"),
    tried: [],
  },
  {
    name: "a key outside its model list: 403, even for a model nobody serves (no names leak)",
    config,
    script: { a: [OK] },
    request: { ...CHAT, model: "secret-model" },
    post: bearer(ONLY_M),
    status: 403,
    answer: (body) => {
      assert.equal(errorOf(body).code, "model_not_allowed");
      assert.doesNotMatch(errorOf(body).message, /Available/);
    },
    tried: [],
  },
  {
    name: "a model nobody serves: 404 naming the served ones",
    config,
    script: { a: [OK] },
    request: { ...CHAT, model: "other" },
    post: bearer(FULL),
    status: 404,
    answer: (body) =>
      assert.equal(
        errorOf(body).message,
        'The model "other" does not exist for service chat. Available: "m".',
      ),
    tried: [],
    after: (h) => assert.match(h.logs.at(-1)!, /"model":"unknown"/),
  },
  {
    name: "the key's own limit: 429 whose message and Retry-After agree",
    config,
    script: { a: [OK] },
    post: bearer(THROTTLED),
    setup: send(1, 0, CHAT, bearer(THROTTLED)),
    status: 429,
    headers: { "retry-after": "2", "x-ratelimit-limit": "1" },
    answer: (body) =>
      assert.equal(errorOf(body).message, "Rate limit exceeded for this API key; retry after 2 s."),
    tried: ["a"],
  },
  {
    name: "another key is not held by that limit",
    config,
    script: { a: [OK] },
    post: bearer(FULL),
    setup: send(2, 0, CHAT, bearer(THROTTLED)),
    status: 200,
    tried: ["a", "a"],
  },
  {
    name: "a request for an unknown model does not use up its key's limit",
    config,
    script: { a: [OK] },
    post: bearer(THROTTLED),
    setup: send(1, 0, { ...CHAT, model: "other" }, bearer(THROTTLED)),
    status: 200,
    tried: ["a"],
  },
];

runCases("access", CASES);

Deno.test("access: a ScopeDecider decides every request-level scope in one call, and may answer later", async () => {
  const seen: string[] = [];
  const deny: Decision = { allowed: false, retryAfterMs: 4500, limit: 10, remaining: 0, resetMs: 9000 };
  let denyNext = false;
  // Stands in for a cluster backend: one (asynchronous) call per request, all scopes at once.
  const cluster: ScopeDecider = {
    async decide(rt, svc, req, tokens) {
      seen.push(`${svc.kind}:${req.clientIp}:${req.apiKey?.name ?? "-"}`);
      await Promise.resolve();
      if (denyNext) return { allowed: false, reason: "rate-limited", scope: "global", decision: deny };
      return localLimits.decide(rt, svc, req, tokens);
    },
  };
  const h = harness(config, { a: [OK] }, cluster);
  assert.equal((await h.post(CHAT, bearer(FULL))).status, 200);
  denyNext = true;
  const denied = await h.post(CHAT, bearer(FULL));
  assert.equal(denied.status, 429);
  assert.equal(denied.headers.get("retry-after"), "5");
  assert.equal(errorOf(await denied.json()).message, "Rate limit exceeded for the gateway; retry after 5 s.");
  await settle();
  assert.deepEqual(seen, ["chat:127.0.0.1:full", "chat:127.0.0.1:full"]);
  assert.deepEqual(h.upstreams.tried, ["a"]);
  h.assertIdle();
});

Deno.test("access: a reload that leaves a key's limit as it was keeps its bucket; a changed limit starts afresh", async () => {
  const h = harness(config, { a: [OK] });
  const reload = (cfg: unknown) =>
    h.gateway.reload(parseConfig(JSON.stringify(cfg), { source: "test.json", env: {} }).config);
  assert.equal((await h.post(CHAT, bearer(THROTTLED))).status, 200);
  reload(config);
  assert.equal((await h.post(CHAT, bearer(THROTTLED))).status, 429, "same block: still empty");
  const keys = config.auth.keys.map((k) =>
    k.name === "throttled" ? { ...k, "rate-limit": { algorithm: "token-bucket", capacity: 2, rate: 0.5 } } : k
  );
  reload({ ...config, auth: { keys } });
  assert.equal((await h.post(CHAT, bearer(THROTTLED))).status, 200, "new block: a new bucket");
  h.assertIdle();
});
