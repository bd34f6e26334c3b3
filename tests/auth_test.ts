/**
 * End-to-end client auth: a real gateway with `auth` keys in front of a fake upstream, driven by
 * the official `openai` SDK and plain `fetch` over real sockets.
 */

import assert from "node:assert/strict";
import OpenAI from "openai";
import { loadConfigFile } from "../src/config/load.ts";
import { createGateway } from "../src/gateway.ts";
import { postChat, startGateway, type TestGateway, withGateway } from "./fakes/gateway.ts";
import { type FakeUpstream, startFakeUpstream } from "./fakes/openai_upstream.ts";
import { seededRandom } from "./fakes/random.ts";

const FULL = "sk-full-access-0001";
const LIMITED = "sk-only-llama-0002";
const THROTTLED = "sk-throttled-0003";
const UPSTREAM_SECRET = "sk-upstream-secret-9999";

const yamlFor = (upstream: string) => `
model:
  health-check: { enabled: false }
  services:
    chat:
      instances:
        - { name: llama3, base-url: "${upstream}", api-key: "${UPSTREAM_SECRET}" }
        - { name: qwen3, base-url: "${upstream}" }
auth:
  keys:
    - name: full
      key: \${FULL_KEY}
    - name: limited
      key: "${LIMITED}"
      models: [llama3]
    - name: throttled
      key: "${THROTTLED}"
      rate-limit: { algorithm: fixed-window, capacity: 2, window: 1m }
`;

const withAuth = (fn: (gw: TestGateway, up: FakeUpstream) => Promise<void>) =>
  withGateway(yamlFor, fn, { env: { FULL_KEY: FULL } });

const sdk = (gw: TestGateway, apiKey: string) =>
  new OpenAI({ baseURL: `${gw.url}/v1`, apiKey, maxRetries: 0 });
const ask = (client: OpenAI, model = "llama3") =>
  client.chat.completions.create({ model, messages: [{ role: "user", content: "hi" }] });
const post = (gw: TestGateway, headers: Record<string, string>, model = "llama3") =>
  postChat(gw.url, { model, headers });

Deno.test("auth: no key and a wrong key are 401 in OpenAI's error shape; nothing reaches the upstream", async () => {
  await withAuth(async (gw, up) => {
    const res = await post(gw, {});
    assert.equal(res.status, 401);
    assert.equal(res.headers.get("www-authenticate"), "Bearer");
    assert.ok(res.headers.get("x-request-id"));
    const body = await res.json();
    assert.equal(body.error.type, "authentication_error");
    assert.equal(body.error.code, "invalid_api_key");

    await assert.rejects(ask(sdk(gw, "sk-wrong-key-0000")), (err: unknown) => {
      assert.ok(err instanceof OpenAI.AuthenticationError);
      assert.equal(err.status, 401);
      return true;
    });
    const basic = await post(gw, { authorization: `Basic ${btoa(`u:${FULL}`)}` });
    assert.equal(basic.status, 401, "only Bearer and X-API-Key carry a key");
    await basic.body?.cancel();
    assert.equal(up.requests.length, 0);
  });
});

Deno.test("auth: a key from ${ENV} works as Bearer (SDK) and as X-API-Key", async () => {
  await withAuth(async (gw, up) => {
    const res = await ask(sdk(gw, FULL), "qwen3");
    assert.match(res.choices[0].message.content ?? "", /^U: /);
    const viaHeader = await post(gw, { "x-api-key": FULL }, "qwen3");
    assert.equal(viaHeader.status, 200);
    await viaHeader.body?.cancel();
    assert.equal(up.requests.length, 2);
  });
});

Deno.test("auth: a model outside the key's list is 403 model_not_allowed; its own model passes", async () => {
  await withAuth(async (gw, up) => {
    const client = sdk(gw, LIMITED);
    await assert.rejects(ask(client, "qwen3"), (err: unknown) => {
      assert.ok(err instanceof OpenAI.PermissionDeniedError);
      assert.equal(err.status, 403);
      assert.equal(err.code, "model_not_allowed");
      return true;
    });
    assert.equal(up.requests.length, 0);
    await ask(client, "llama3");
    assert.equal(up.requests.length, 1);
  });
});

Deno.test("auth: a per-key rate limit answers 429 with Retry-After and X-RateLimit-*; other keys pass", async () => {
  await withAuth(async (gw) => {
    for (let i = 0; i < 2; i++) {
      const ok = await post(gw, { authorization: `Bearer ${THROTTLED}` });
      assert.equal(ok.status, 200);
      await ok.body?.cancel();
    }
    const denied = await post(gw, { authorization: `Bearer ${THROTTLED}` });
    assert.equal(denied.status, 429);
    assert.equal((await denied.json()).error.code, "rate_limit_exceeded");
    assert.ok(Number(denied.headers.get("retry-after")) >= 1);
    assert.equal(denied.headers.get("x-ratelimit-limit"), "2");
    assert.equal(denied.headers.get("x-ratelimit-remaining"), "0");
    assert.ok(denied.headers.has("x-ratelimit-reset"));
    await ask(sdk(gw, FULL));
    const metrics = await (await fetch(`${gw.url}/metrics`, { headers: { "x-api-key": FULL } })).text();
    assert.match(metrics, /scope="api-key"[^\n]*\} 1/);
  });
});

Deno.test("auth: the client's key is not forwarded upstream; the instance's own api-key is", async () => {
  await withAuth(async (gw, up) => {
    const res = await post(gw, { authorization: `Bearer ${FULL}`, "x-api-key": FULL });
    assert.equal(res.status, 200);
    await res.body?.cancel();
    const seen = up.requests[0].headers;
    assert.equal(seen.get("authorization"), `Bearer ${UPSTREAM_SECRET}`);
    assert.equal(seen.get("x-api-key"), null);
    const keyless = await post(gw, { "x-api-key": FULL }, "qwen3");
    await keyless.body?.cancel();
    assert.equal(up.requests[1].headers.get("authorization"), null);
  });
});

Deno.test("auth: /healthz and /readyz stay open; /v1/models, status and /metrics need a key", async () => {
  await withAuth(async (gw) => {
    for (const path of ["/healthz", "/readyz"]) {
      const res = await fetch(`${gw.url}${path}`);
      assert.equal(res.status, 200, path);
      await res.body?.cancel();
    }
    for (const path of ["/v1/models", "/v1/chat/status", "/metrics", "/no/such/path"]) {
      const res = await fetch(`${gw.url}${path}`);
      assert.equal(res.status, 401, path);
      await res.body?.cancel();
      const ok = await fetch(`${gw.url}${path}`, { headers: { "x-api-key": FULL } });
      assert.equal(ok.status, path === "/no/such/path" ? 404 : 200, path);
      await ok.body?.cancel();
    }
    const all = await sdk(gw, FULL).models.list();
    assert.deepEqual(all.data.map((m) => m.id), ["llama3", "qwen3"]);
    const mine = await sdk(gw, LIMITED).models.list();
    assert.deepEqual(mine.data.map((m) => m.id), ["llama3"], "a key sees only its models");
  });
});

Deno.test("auth: no log line contains a client key, a wrong key or the upstream key", async () => {
  await withAuth(async (gw) => {
    await ask(sdk(gw, FULL));
    await ask(sdk(gw, "sk-wrong-key-0000")).catch(() => {});
    await ask(sdk(gw, LIMITED), "qwen3").catch(() => {});
    for (let i = 0; i < 3; i++) await (await post(gw, { "x-api-key": THROTTLED })).body?.cancel();
    gw.gateway.logger.warn(`client sent Authorization: Bearer ${FULL}`);
    const statuses = gw.logs.map((l) => JSON.parse(l).status).filter((s) => s !== undefined);
    assert.deepEqual(statuses.sort(), [200, 200, 200, 401, 403, 429]);
    for (const secret of [FULL, LIMITED, THROTTLED, "sk-wrong-key-0000", UPSTREAM_SECRET]) {
      assert.ok(!gw.logs.some((l) => l.includes(secret)), `a log line contains ${secret}`);
    }
  });
});

Deno.test("auth: a key read from key-file by loadConfigFile authenticates", async () => {
  const up = startFakeUpstream({ name: "U" });
  const dir = await Deno.makeTempDir({ prefix: "dairouter-auth-" });
  const server = { shutdown: async () => {} };
  try {
    await Deno.writeTextFile(`${dir}/client.key`, "sk-from-a-file-0005\n");
    await Deno.writeTextFile(
      `${dir}/gw.yaml`,
      `model:\n  health-check: { enabled: false }\n  services:\n    chat:\n      instances:\n` +
        `        - { name: llama3, base-url: "${up.url}" }\nauth:\n  keys:\n    - { name: f, key-file: client.key }\n`,
    );
    const { config } = await loadConfigFile(`${dir}/gw.yaml`, {});
    const gateway = createGateway(config, {
      clock: Date.now,
      random: seededRandom(1),
      fetch,
      write: () => {},
    });
    const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, gateway.fetch);
    server.shutdown = () => http.shutdown();
    const client = new OpenAI({
      baseURL: `http://127.0.0.1:${http.addr.port}/v1`,
      apiKey: "sk-from-a-file-0005",
      maxRetries: 0,
    });
    await ask(client);
    assert.equal(up.requests.length, 1);
    await gateway.close();
  } finally {
    await server.shutdown();
    await up.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("auth off: the client's Authorization still reaches the upstream as before", async () => {
  const up = startFakeUpstream({ name: "U" });
  const gw = startGateway(
    `model:\n  health-check: { enabled: false }\n  services:\n    chat:\n      instances:\n` +
      `        - { name: llama3, base-url: "${up.url}" }\n`,
  );
  try {
    await ask(sdk(gw, "sk-passthrough-1"));
    assert.equal(up.requests[0].headers.get("authorization"), "Bearer sk-passthrough-1");
  } finally {
    await gw.close();
    await up.close();
  }
});

Deno.test("auth: a refused key leaves one access-log line on every route; count_tokens is logged too", async () => {
  await withAuth(async (gw) => {
    const get = async (path: string, headers: Record<string, string> = {}) => {
      const res = await fetch(`${gw.url}${path}`, { headers });
      await res.body?.cancel();
      return res.status;
    };
    const before = gw.logs.length;
    assert.equal(await get("/v1/models", { authorization: "Bearer sk-wrong-key-0000" }), 401);
    assert.equal(await get("/metrics"), 401);
    assert.equal(await get("/api/tags", { "x-api-key": "sk-wrong-key-0000" }), 401);
    assert.equal(await get("/healthz"), 200);
    assert.equal(await get("/v1/models", { authorization: `Bearer ${FULL}` }), 200);
    const count = await fetch(`${gw.url}/v1/messages/count_tokens`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": FULL },
      body: JSON.stringify({ model: "llama3", messages: [{ role: "user", content: "hi" }] }),
    });
    assert.equal(count.status, 200, await count.text());
    const lines = gw.logs.slice(before).map((l) => JSON.parse(l)).filter((l) => l.msg === "access");
    assert.deepEqual(
      lines.map((l) => [l.method, l.route, l.status, l.error]),
      [
        ["GET", "/v1/models", 401, "invalid_api_key"],
        ["GET", "/metrics", 401, "invalid_api_key"],
        ["GET", "/api/tags", 401, "invalid_api_key"],
        ["POST", "/v1/messages/count_tokens", 200, null],
      ],
    );
    assert.ok(
      lines.every((l) => l.clientIp === "127.0.0.1" && typeof l.requestId === "string"),
      JSON.stringify(lines[0]),
    );
  });
});
