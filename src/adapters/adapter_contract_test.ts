/**
 * The contract every adapter passes, whatever its dialect: it serves the services its backend
 * serves at the backend's own paths; auth and instance headers, no double slash, unknown request
 * fields survive, multipart bytes are never touched; a service it lacks is a 400 unless the
 * instance configures a path; the probe is a body-less GET with the key. The last test runs the
 * contract against deliberately broken adapters — one that refuses everything among them — and
 * checks each one fails it.
 */
import assert from "node:assert/strict";
import { BadRequestError } from "../errors.ts";
import type { Adapter, AdapterInput, AdapterName, ServiceKind, UpstreamCall } from "../types.ts";
import { SERVICE_KINDS } from "../types.ts";
import { callJson, fixtureJson, jsonInput, multipartInput } from "./_testing.ts";
import { ADAPTER_NAMES, getAdapter, OPENAI_PATHS, openaiAdapter } from "./mod.ts";

const BASE = "http://127.0.0.1:9000/";
const TARGET = { baseUrl: BASE, apiKey: "sk-up", headers: { "x-extra": "1" } };
const EXTRA = { keep: true, nested: [1, 2] };

const OPENAI: Partial<Record<ServiceKind, string>> = OPENAI_PATHS;
const { tts: _tts, stt: _stt, imgGen: _imgGen, imgEdit: _imgEdit, ...TEXT_ONLY } = OPENAI;

/**
 * What each backend serves without any configured `path`, and where (from each server's API
 * documentation). An adapter may serve more; it may not refuse these or send them elsewhere.
 */
const NATIVE: Readonly<Record<AdapterName, Partial<Record<ServiceKind, string>>>> = {
  openai: OPENAI,
  normal: OPENAI,
  xinference: OPENAI,
  // GPUStack serves the OpenAI API under /v1-openai, and rerank under /v1.
  gpustack: Object.fromEntries(
    Object.entries(OPENAI_PATHS).map(([service, path]) => [
      service,
      service === "rerank" ? path : path.replace(/^\/v1\//, "/v1-openai/"),
    ]),
  ),
  localai: { ...TEXT_ONLY, tts: OPENAI.tts, stt: OPENAI.stt, imgGen: OPENAI.imgGen },
  vllm: { ...TEXT_ONLY, stt: OPENAI.stt },
  llamacpp: TEXT_ONLY,
  // Transcriptions since Ollama v0.20.0; image generation v0.15.0–v0.32.5 (see ollama.ts).
  ollama: { chat: OPENAI.chat, embedding: "/api/embed", stt: OPENAI.stt, imgGen: OPENAI.imgGen },
  triton: { chat: OPENAI.chat, embedding: OPENAI.embedding },
  tei: { embedding: "/embed", rerank: "/rerank" },
  infinity: { embedding: "/embeddings", rerank: "/rerank" },
};

function bodyFor(service: ServiceKind): Record<string, unknown> {
  const base = { model: "m", x_vendor_extra: EXTRA };
  switch (service) {
    case "chat":
      return {
        ...base,
        messages: [{ role: "user", content: "hi" }],
        tools: [],
        response_format: { type: "text" },
      };
    case "embedding":
      return { ...base, input: ["a", "b"] };
    case "rerank":
      return { ...base, query: "q", documents: ["a", { text: "b" }], top_n: 1 };
    case "tts":
      return { ...base, input: "hello", voice: "alloy", response_format: "mp3" };
    default:
      return { ...base, prompt: "a cat" };
  }
}

function inputFor(service: ServiceKind, path?: string): AdapterInput {
  const target = { ...TARGET, path };
  const headers = { "x-request-id": "req-1" };
  if (service === "stt" || service === "imgEdit") {
    return multipartInput(service, { model: "m", response_format: "json" }, { target, headers });
  }
  return jsonInput(service, bodyFor(service), { target, headers });
}

function checkCall(call: UpstreamCall, input: AdapterInput, where: string): void {
  assert.equal(call.method, "POST", where);
  assert.ok(call.url.startsWith("http://127.0.0.1:9000/"), `${where}: ${call.url}`);
  assert.ok(!call.url.slice("http://".length).includes("//"), `${where}: double slash in ${call.url}`);
  assert.equal(call.headers.get("authorization"), "Bearer sk-up", where);
  assert.equal(call.headers.get("x-extra"), "1", where);
  assert.equal(call.headers.get("x-request-id"), "req-1", where);
  assert.equal(call.streamContentType !== undefined, call.mapStream !== undefined, where);
  if (input.body.kind === "raw") {
    assert.equal(call.body, input.body.bytes, `${where}: multipart bytes must pass untouched`);
    assert.equal(call.headers.get("content-type"), input.body.contentType, where);
  } else if (call.body !== input.body.bytes) {
    assert.deepEqual(
      (callJson(call) as Record<string, unknown>).x_vendor_extra,
      EXTRA,
      `${where}: extra lost`,
    );
  }
}

/** The contract, clause by clause; each throws when `adapter` (configured as `name`) breaks it. */
const CONTRACT: Record<string, (name: AdapterName, adapter: Adapter) => void | Promise<void>> = {
  "serves its backend's services at the backend's paths, keeping the contract": (name, adapter) => {
    for (const [service, path] of Object.entries(NATIVE[name]) as [ServiceKind, string][]) {
      const input = inputFor(service);
      const call = adapter.prepare(input);
      assert.equal(new URL(call.url).pathname, path, `${name}/${service}`);
      checkCall(call, input, `${name}/${service}`);
    }
  },
  "any other service is either served with the contract kept or refused with a 400": (name, adapter) => {
    for (const service of SERVICE_KINDS) {
      const input = inputFor(service);
      let call: UpstreamCall;
      try {
        call = adapter.prepare(input);
      } catch (e) {
        assert.ok(e instanceof BadRequestError, `${name}/${service}: ${e}`);
        assert.ok(!(service in NATIVE[name]), `${name}/${service} refused: ${e}`);
        continue;
      }
      checkCall(call, input, `${name}/${service}`);
    }
  },
  "a configured instance path wins for every service": (name, adapter) => {
    for (const service of SERVICE_KINDS) {
      const input = inputFor(service, "/custom/endpoint");
      const call = adapter.prepare(input);
      assert.equal(call.url, "http://127.0.0.1:9000/custom/endpoint", `${name}/${service}`);
      checkCall(call, input, `${name}/${service}`);
    }
  },
  "chat tools, response_format, image parts and extras survive": async (name, adapter) => {
    const value = await fixtureJson("openai", "chat_request.json") as Record<string, unknown>;
    const input = jsonInput("chat", value, { target: TARGET });
    if (!("chat" in NATIVE[name])) {
      assert.throws(() => adapter.prepare(input), BadRequestError);
      return;
    }
    assert.equal(adapter.prepare(input).body, input.body.bytes, name);
  },
  "probes are body-less GETs with the key, for every service": (name, adapter) => {
    for (const service of SERVICE_KINDS) {
      const probe = adapter.probe(service, TARGET);
      assert.equal(probe.method, "GET", `${name}/${service}`);
      assert.equal(probe.body, undefined);
      assert.ok(probe.url.startsWith("http://127.0.0.1:9000/") && !probe.url.endsWith("9000//"));
      assert.equal(probe.headers.get("authorization"), "Bearer sk-up");
      assert.equal(probe.headers.get("x-extra"), "1");
    }
  },
};

for (const name of ADAPTER_NAMES) {
  for (const [clause, check] of Object.entries(CONTRACT)) {
    Deno.test(`${name}: ${clause}`, () => check(name, getAdapter(name)));
  }
}

/** The openai adapter with `prepare` changed by `change`. */
function broken(change: (call: UpstreamCall, input: AdapterInput) => UpstreamCall): Adapter {
  return { ...openaiAdapter, prepare: (input) => change(openaiAdapter.prepare(input), input) };
}

const BROKEN: Record<string, Adapter> = {
  "refuses everything": {
    ...openaiAdapter,
    prepare: () => {
      throw new BadRequestError("this backend does nothing");
    },
  },
  "refuses everything without a configured path": {
    ...openaiAdapter,
    prepare: (input) => {
      if (input.target.path) return openaiAdapter.prepare(input);
      throw new BadRequestError("no path");
    },
  },
  "drops the instance's key": broken((call) => {
    const headers = call.headers.clone();
    headers.delete("authorization");
    return { ...call, headers };
  }),
  "copies multipart bytes": broken((call, input) => ({
    ...call,
    body: input.body.kind === "raw" ? input.body.bytes.slice() : call.body,
  })),
  "re-encodes JSON without unknown fields": broken((call, input) => {
    if (input.body.kind !== "json") return call;
    const { x_vendor_extra: _, ...rest } = input.body.value as Record<string, unknown>;
    return { ...call, body: JSON.stringify(rest) };
  }),
  "sends every service to the chat path": broken((call) => ({
    ...call,
    url: call.url.replace(/\/v1\/.*$/, "/v1/chat/completions"),
  })),
};

Deno.test("the adapter contract fails adapters that refuse everything, drop keys, touch bodies or misroute", async () => {
  for (const check of Object.values(CONTRACT)) await check("openai", openaiAdapter);
  for (const [what, adapter] of Object.entries(BROKEN)) {
    let failures = 0;
    for (const check of Object.values(CONTRACT)) {
      try {
        await check("openai", adapter);
      } catch {
        failures++;
      }
    }
    assert.ok(failures > 0, `an adapter that ${what} passes the contract`);
  }
});
