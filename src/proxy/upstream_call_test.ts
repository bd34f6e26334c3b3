import assert from "node:assert/strict";
import { getAdapter } from "../adapters/mod.ts";
import { HeaderList } from "../header_list.ts";
import type { AdapterName, JsonBody, RawBody } from "../types.ts";
import type { DialectCall, GatewayRequest } from "./request.ts";
import type { Upstream } from "./runtime_types.ts";
import { prepareCall, UpstreamBodies } from "./upstream_call.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function jsonBody(value: Record<string, unknown>): JsonBody {
  return { kind: "json", bytes: enc.encode(JSON.stringify(value)), value };
}

function request(body: JsonBody | RawBody, over: Partial<GatewayRequest> = {}): GatewayRequest {
  return {
    service: "chat",
    route: "/v1/chat/completions",
    method: "POST",
    model: body.kind === "json" ? String(body.value.model) : "whisper",
    stream: body.kind === "json" && body.value.stream === true,
    body,
    clientIp: "127.0.0.1",
    requestId: "r",
    clientHeaders: new Headers(),
    forwardHeaders: new HeaderList(),
    signal: new AbortController().signal,
    receivedAt: 0,
    ...over,
  };
}

function upstream(
  model: string,
  upstreamModel = model,
  adapter: AdapterName = "openai",
  native: string[] = [],
) {
  return {
    id: `chat/${model}`,
    model,
    upstreamModel,
    nativeDialects: new Set(native),
    adapter: getAdapter(adapter),
    target: { baseUrl: "http://127.0.0.1:1", headers: {} },
  } as unknown as Upstream;
}

Deno.test("UpstreamBodies: a body that needs no change is the client's, the same bytes", () => {
  const body = jsonBody({ model: "m", messages: [] });
  const bodies = new UpstreamBodies(request(body));
  assert.equal(bodies.for(upstream("m")).body, body);
  assert.equal(bodies.for(upstream("m")).usage, false);
});

Deno.test("UpstreamBodies: upstream-model renames the JSON model once per request; usage asked in the same rewrite", () => {
  const body = jsonBody({ model: "m", stream: true, messages: [] });
  const bodies = new UpstreamBodies(request(body));
  const first = bodies.for(upstream("m", "Org/M"));
  assert.equal(first.usage, true);
  assert.equal(
    dec.decode(first.body.bytes),
    '{"model":"Org/M","stream":true,"messages":[],"stream_options":{"include_usage":true}}',
  );
  assert.equal(bodies.for(upstream("m", "Org/M")).body, first.body, "a retry reuses it");
  const plain = bodies.for(upstream("m", "m", "tei"));
  assert.equal(plain.body, body, "an adapter that takes no stream_options gets the bytes as they came");
});

Deno.test("UpstreamBodies: an alias in the body becomes the model's upstream name", () => {
  const bodies = new UpstreamBodies(request(jsonBody({ model: "gpt-4o-mini", messages: [] })));
  assert.equal(JSON.parse(dec.decode(bodies.for(upstream("qwen3-8b")).body.bytes)).model, "qwen3-8b");
});

Deno.test("UpstreamBodies: a multipart upload gets its model field replaced, the file untouched", () => {
  const file = "RIFF\x00\x01\xff binary";
  const bytes = enc.encode(
    `--b\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n${file}\r\n` +
      '--b\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper\r\n--b--\r\n',
  );
  const body: RawBody = { kind: "raw", bytes, contentType: "multipart/form-data; boundary=b" };
  const out =
    new UpstreamBodies(request(body, { service: "stt" })).for(upstream("whisper", "openai/whisper-large-v3"))
      .body;
  assert.equal(
    dec.decode(out.bytes),
    dec.decode(bytes).replace("\r\n\r\nwhisper\r\n", "\r\n\r\nopenai/whisper-large-v3\r\n"),
  );
});

function dialect(): DialectCall {
  return {
    name: "anthropic",
    route: "/v1/messages",
    original: enc.encode('{"model":"claude-x","max_tokens":5,"messages":[]}'),
    native: { vllm: { path: "/v1/messages", since: "test" } },
    translated: () => ({ whole: true, json: (b) => b, stream: () => undefined }),
    answer: (v) => v,
  };
}

Deno.test("prepareCall(): a dialect request to an instance that speaks it natively forwards the client's bytes to its route", () => {
  const req = request(jsonBody({ model: "claude-x", messages: [] }), { dialect: dialect() });
  const native = upstream("claude-x", "claude-x", "vllm", ["anthropic"]);
  const p = prepareCall(req, new UpstreamBodies(req), native);
  assert.equal(p.call.url, "http://127.0.0.1:1/v1/messages");
  assert.equal(p.call.body, req.dialect!.original);
  assert.equal(p.reply, undefined, "its answer is already the client's");
  const renamed = prepareCall(req, new UpstreamBodies(req), upstream("q", "Org/Q", "vllm", ["anthropic"]));
  assert.equal(JSON.parse(dec.decode(renamed.call.body as Uint8Array)).model, "Org/Q");
});

Deno.test("prepareCall(): the same request to an instance without the switch is translated and its answer turned back", () => {
  const req = request(jsonBody({ model: "claude-x", messages: [] }), { dialect: dialect() });
  const p = prepareCall(req, new UpstreamBodies(req), upstream("claude-x", "claude-x", "vllm"));
  assert.equal(p.call.url, "http://127.0.0.1:1/v1/chat/completions");
  assert.equal(p.call.body, req.body.bytes);
  assert.equal(p.reply?.whole, true);
});
