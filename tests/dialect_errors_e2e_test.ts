/**
 * Every refusal in the client's own dialect, over real sockets: bad input (missing fields, wrong
 * types, unsupported features), an unknown model, a bad or missing key, a model the key may not
 * use, a rate limit, an upstream's own 4xx, no instance left — Anthropic's
 * `{type:"error",error:{type,message}}`, OpenAI's `{error:{message,type,code,param}}` for
 * Responses, Ollama's `{error}` — each read by the official client, which raises its own error.
 */

import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { Ollama } from "ollama";
import { accessLines, MISSING, withDialectGateway } from "./fakes/dialect_gateway.ts";
import { oneInstanceYaml, startGateway } from "./fakes/gateway.ts";
import { startFakeUpstream } from "./fakes/openai_upstream.ts";

const KEY = "sk-dialect-test-0123456789";
/** A key for every model: an unknown model is a 404 for it (for KEY, limited to two, a 403). */
const ALL = "sk-dialect-test-every-model";
const AUTH = `
auth:
  enabled: true
  keys:
    - name: ci
      key: ${KEY}
      models: [qwen3-vllm, qwen3-ollama]
    - name: all
      key: ${ALL}
`;

type Check = { path: string; body: unknown; status: number; error: RegExp; key?: string };

async function post(url: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": KEY, ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

/** Anthropic's error shape, with the type its status names. */
function anthropicError(body: Record<string, unknown>, status: number): string {
  const types: Record<number, string> = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    429: "rate_limit_error",
    503: "overloaded_error",
  };
  assert.equal(body.type, "error");
  const e = body.error as { type: string; message: string };
  assert.deepEqual(Object.keys(e).sort(), ["message", "type"]);
  assert.equal(e.type, types[status]);
  return e.message;
}

const HI = [{ role: "user", content: "hi" }];
const MSG = { model: "qwen3-vllm", max_tokens: 16, messages: [{ role: "user", content: "hi" }] };
const ANTHROPIC_BAD: Check[] = [
  { path: "/v1/messages", body: "{", status: 400, error: /not valid JSON/ },
  {
    path: "/v1/messages",
    body: '{"model":"qwen3-vllm","model":"qwen3-broken","max_tokens":8,"messages":[]}',
    status: 400,
    error: /names the model parameter more than once/,
  },
  {
    path: "/v1/messages",
    body: { ...MSG, max_tokens: undefined },
    status: 400,
    error: /"max_tokens" must be an integer >= 1/,
  },
  {
    path: "/v1/messages",
    body: { ...MSG, messages: "hi" },
    status: 400,
    error: /"messages" must be a non-empty array/,
  },
  {
    path: "/v1/messages",
    body: { ...MSG, mcp_servers: [{ type: "url", url: "x", name: "m" }] },
    status: 400,
    error: /"mcp_servers" is not supported: remote MCP servers are called by Anthropic's platform/,
  },
  { path: "/v1/messages", body: { ...MSG, x_knob: 1 }, status: 400, error: /"x_knob" is not supported/ },
  {
    path: "/v1/messages",
    body: { ...MSG, model: "gpt-5" },
    status: 404,
    error: /The model "gpt-5" does not exist/,
    key: ALL,
  },
  {
    path: "/v1/messages",
    body: { ...MSG, model: "gpt-5" },
    status: 403,
    error: /not allowed to use the model "gpt-5"/,
  },
  {
    path: "/v1/messages",
    body: { ...MSG, model: "qwen3-broken" },
    status: 403,
    error: /not allowed to use the model "qwen3-broken"/,
  },
  { path: "/v1/messages/count_tokens", body: { model: "qwen3-vllm" }, status: 400, error: /"messages"/ },
];

Deno.test("Anthropic Messages: every refusal in Anthropic's error shape, read by @anthropic-ai/sdk", async () => {
  await withDialectGateway(
    async ({ gw, vllm }) => {
      const before = vllm.requests.length;
      for (const c of ANTHROPIC_BAD) {
        const res = await post(gw.url, c.path, c.body, { "x-api-key": c.key ?? KEY });
        assert.equal(res.status, c.status, JSON.stringify(c.body));
        assert.match(anthropicError(res.body, c.status), c.error);
        assert.equal(res.headers.get("content-type"), "application/json");
      }
      assert.equal(vllm.requests.length, before, "no refused request reached a backend");
      const get = await fetch(`${gw.url}/v1/messages`);
      assert.equal(get.status, 405);
      assert.equal(get.headers.get("allow"), "POST");
      assert.match(anthropicError(await get.json(), 405), /GET \/v1\/messages is not served; use POST/);
      const noKey = await post(gw.url, "/v1/messages", MSG, { "x-api-key": "wrong" });
      assert.equal(noKey.status, 401);
      assert.match(anthropicError(noKey.body, 401), /Invalid or missing API key/);
      // The SDK raises its own classes from those bodies.
      const bad = new Anthropic({ baseURL: gw.url, apiKey: "wrong", maxRetries: 0 });
      await assert.rejects(
        bad.messages.create(MSG as Anthropic.MessageCreateParamsNonStreaming),
        Anthropic.AuthenticationError,
      );
      const sdk = new Anthropic({ baseURL: gw.url, apiKey: KEY, maxRetries: 0 });
      await assert.rejects(
        sdk.messages.create({ ...MSG, model: "qwen3-broken" } as Anthropic.MessageCreateParamsNonStreaming),
        Anthropic.PermissionDeniedError,
      );
      assert.equal(
        accessLines(gw).filter((l) => l.dialect === "anthropic" && l.status === 400).length >= 5,
        true,
      );
    },
    "",
    AUTH,
  );
});

Deno.test("OpenAI Responses: every refusal in OpenAI's error shape with its param, read by the openai SDK", async () => {
  await withDialectGateway(
    async ({ gw }) => {
      const cases: (Check & { param?: string | null })[] = [
        {
          path: "/v1/responses",
          body: { model: "qwen3-vllm" },
          status: 400,
          error: /"input" must be a string or a non-empty array of items/,
        },
        {
          path: "/v1/responses",
          body: { model: "qwen3-vllm", input: 5 },
          status: 400,
          error: /"input" must be a string or a non-empty array of items/,
        },
        {
          path: "/v1/responses",
          body: { model: "qwen3-vllm", input: "hi", previous_response_id: "resp_1" },
          status: 400,
          error: /this gateway is stateless and stores no responses/,
          param: "previous_response_id",
        },
        {
          path: "/v1/responses",
          body: { model: "nope", input: "hi" },
          status: 404,
          error: /does not exist/,
          param: "model",
          key: ALL,
        },
      ];
      for (const c of cases) {
        const res = await post(gw.url, c.path, c.body, { authorization: `Bearer ${c.key ?? KEY}` });
        assert.equal(res.status, c.status);
        const e = res.body.error as {
          message: string;
          type: string;
          param: string | null;
          code: string | null;
        };
        assert.deepEqual(Object.keys(e).sort(), ["code", "message", "param", "type"]);
        assert.match(e.message, c.error);
        if (c.param !== undefined) assert.equal(e.param, c.param);
      }
      const sdk = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0 });
      await assert.rejects(
        sdk.responses.create({ model: "qwen3-vllm", input: "hi", previous_response_id: "resp_1" }),
        (err: Error) => err instanceof OpenAI.BadRequestError && /stateless/.test(err.message),
      );
      const bad = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "wrong", maxRetries: 0 });
      await assert.rejects(
        bad.responses.create({ model: "qwen3-vllm", input: "hi" }),
        OpenAI.AuthenticationError,
      );
    },
    "",
    AUTH,
  );
});

Deno.test("Ollama: every refusal as Ollama's {error}, raised by the ollama client with its status", async () => {
  await withDialectGateway(
    async ({ gw }) => {
      const auth = { authorization: `Bearer ${KEY}` };
      const cases: Check[] = [
        {
          path: "/api/chat",
          body: { model: "qwen3-vllm" },
          status: 400,
          error: /"messages" must be a non-empty array/,
        },
        {
          path: "/api/chat",
          body: { model: "qwen3-vllm", messages: HI, options: { mirostat: 2 } },
          status: 400,
          error: /mirostat/,
        },
        {
          path: "/api/generate",
          body: { model: "qwen3-vllm", prompt: "x", raw: true },
          status: 400,
          error: /"raw" is not supported/,
        },
        {
          path: "/api/embed",
          body: { model: "qwen3-vllm", input: 3 },
          status: 400,
          error: /"input" must be a string or a non-empty array of strings/,
        },
        {
          path: "/api/chat",
          body: { model: "nope", messages: HI },
          status: 404,
          error: /"nope" does not exist/,
          key: ALL,
        },
      ];
      for (const c of cases) {
        const res = await post(gw.url, c.path, c.body, { authorization: `Bearer ${c.key ?? KEY}` });
        assert.equal(res.status, c.status, JSON.stringify(c.body));
        assert.deepEqual(Object.keys(res.body), ["error"]);
        assert.match(res.body.error as string, c.error);
      }
      const bad = new Ollama({ host: gw.url, headers: { authorization: "Bearer wrong" } });
      await assert.rejects(
        bad.chat({ model: "qwen3-vllm", messages: HI }),
        (err: Error & { status_code?: number }) => {
          assert.equal(err.status_code, 401);
          assert.match(err.message, /Invalid or missing API key/);
          return true;
        },
      );
      await assert.rejects(bad.list(), (err: Error & { status_code?: number }) => err.status_code === 401);
      const wrongMethod = await post(gw.url, "/api/tags", {}, auth);
      assert.deepEqual([wrongMethod.status, wrongMethod.body], [405, {
        error: "POST /api/tags is not served; use GET, HEAD.",
      }]);
      const ok = new Ollama({ host: gw.url, headers: auth });
      assert.deepEqual((await ok.list()).models.map((m) => m.name), [
        "gpt-4o-mini",
        "qwen3-ollama",
        "qwen3-vllm",
      ]);
    },
    "",
    AUTH,
  );
});

Deno.test("a rate limit leaves as Anthropic's rate_limit_error with Retry-After", async () => {
  await withDialectGateway(async ({ gw }) => {
    const sdk = new Anthropic({ baseURL: gw.url, apiKey: "unused", maxRetries: 0 });
    const ask = { model: "qwen3-vllm", max_tokens: 8, messages: [{ role: "user" as const, content: "hi" }] };
    await sdk.messages.create(ask);
    await sdk.messages.create(ask);
    const limited = await post(gw.url, "/v1/messages", ask);
    assert.equal(limited.status, 429);
    assert.match(
      anthropicError(limited.body, 429),
      /Rate limit exceeded for service chat; retry after \d+ s\./,
    );
    assert.ok(Number(limited.headers.get("retry-after")) >= 1);
    await assert.rejects(sdk.messages.create(ask), Anthropic.RateLimitError);
  }, "  rate-limit: { capacity: 2, rate: 0.001, scope: service }");
});

Deno.test("no instance left and an upstream's own 4xx leave in the dialect's shape", async () => {
  await withDialectGateway(async ({ gw }) => {
    gw.gateway.runtime().upstreams.find((u) => u.model === "qwen3-vllm")!.health.eject("test");
    const down = await post(gw.url, "/v1/messages", MSG);
    assert.equal(down.status, 503);
    assert.match(
      anthropicError(down.body, 503),
      /no available instance for model "qwen3-vllm" \(1 unhealthy\)/,
    );
    const ollamaDown = await post(gw.url, "/api/chat", { model: "qwen3-vllm", messages: HI, stream: false });
    assert.equal(ollamaDown.status, 503);
    assert.deepEqual(Object.keys(ollamaDown.body), ["error"]);
    // Ollama's own 404 for a model it lacks (its `{error}`), in the client's dialect.
    const missing = await post(gw.url, "/v1/messages", { ...MSG, model: MISSING });
    assert.equal(missing.status, 404);
    assert.match(anthropicError(missing.body, 404), /model "missing:1b" not found, try pulling it first/);
    const viaOllama = await post(gw.url, "/api/chat", { model: MISSING, messages: HI, stream: false });
    assert.deepEqual(viaOllama.body, { error: 'model "missing:1b" not found, try pulling it first' });
  });
});

Deno.test("an upstream that answers chat in the other shape: the Anthropic and OpenAI SDKs get a 502 that says so, not an answer they cannot read", async () => {
  const up = startFakeUpstream({ name: "A" });
  up.fault = { kind: "wrong-shape" };
  const gw = startGateway(oneInstanceYaml(up.url));
  try {
    const anthropic = new Anthropic({ baseURL: gw.url, apiKey: "unused", maxRetries: 0 });
    const ask = { model: "m", max_tokens: 16, messages: [{ role: "user" as const, content: "hi" }] };
    const whole = await anthropic.messages.create(ask).catch((e) => e);
    assert.ok(whole instanceof Anthropic.APIError, String(whole));
    assert.equal(whole.status, 502);
    assert.match(whole.message, /upstream answered text\/event-stream to a request for a whole answer/);
    const streamed = await anthropic.messages.stream(ask).finalMessage().catch((e) => e);
    assert.ok(streamed instanceof Anthropic.APIError, String(streamed));
    assert.match(streamed.message, /upstream answered application\/json to a request for a stream/);
    const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const responses = await openai.responses.create({ model: "m", input: "hi", stream: true }).catch((e) =>
      e
    );
    assert.ok(responses instanceof OpenAI.APIError, String(responses));
    assert.equal(responses.status, 502);
  } finally {
    await gw.close();
    await up.close();
  }
});
