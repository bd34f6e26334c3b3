/**
 * The contract every adapter passes, whatever its dialect: auth and instance headers, no double
 * slash, unknown request fields survive, multipart bytes are never touched, a lacking service is
 * a 400 unless the instance configures a path, and the probe is a body-less GET with the key.
 */
import assert from "node:assert/strict";
import { BadRequestError } from "../errors.ts";
import type { AdapterInput, ServiceKind, UpstreamCall } from "../types.ts";
import { SERVICE_KINDS } from "../types.ts";
import { callJson, fixtureJson, jsonInput, multipartInput } from "./_testing.ts";
import { ADAPTER_NAMES, getAdapter } from "./mod.ts";

const BASE = "http://127.0.0.1:9000/";
const TARGET = { baseUrl: BASE, apiKey: "sk-up", headers: { "x-extra": "1" } };
const EXTRA = { keep: true, nested: [1, 2] };

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

for (const name of ADAPTER_NAMES) {
  const adapter = getAdapter(name);

  Deno.test(`${name}: every service is either served with the contract kept or refused with a 400`, () => {
    for (const service of SERVICE_KINDS) {
      const input = inputFor(service);
      let call: UpstreamCall;
      try {
        call = adapter.prepare(input);
      } catch (e) {
        assert.ok(e instanceof BadRequestError, `${name}/${service}: ${e}`);
        continue;
      }
      checkCall(call, input, `${name}/${service}`);
    }
  });

  Deno.test(`${name}: a configured instance path wins for every service`, () => {
    for (const service of SERVICE_KINDS) {
      const input = inputFor(service, "/custom/endpoint");
      const call = adapter.prepare(input);
      assert.equal(call.url, "http://127.0.0.1:9000/custom/endpoint", `${name}/${service}`);
      checkCall(call, input, `${name}/${service}`);
    }
  });

  Deno.test(`${name}: chat tools, response_format, image parts and extras survive`, async () => {
    const value = await fixtureJson("openai", "chat_request.json") as Record<string, unknown>;
    const input = jsonInput("chat", value, { target: TARGET });
    let call: UpstreamCall;
    try {
      call = adapter.prepare(input);
    } catch (e) {
      assert.ok(e instanceof BadRequestError);
      return;
    }
    assert.equal(call.body, input.body.bytes);
  });

  Deno.test(`${name}: probes are body-less GETs with the key, for every service`, () => {
    for (const service of SERVICE_KINDS) {
      const probe = adapter.probe(service, TARGET);
      assert.equal(probe.method, "GET");
      assert.equal(probe.body, undefined);
      assert.ok(probe.url.startsWith("http://127.0.0.1:9000/") && !probe.url.endsWith("9000//"));
      assert.equal(probe.headers.get("authorization"), "Bearer sk-up");
      assert.equal(probe.headers.get("x-extra"), "1");
    }
  });
}
