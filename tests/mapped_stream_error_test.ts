/**
 * A stream an adapter rewrites (Ollama's native `/api/chat` NDJSON → OpenAI SSE) that fails
 * mid-way — the upstream's connection drops, or the gateway cuts it at its shutdown deadline —
 * ends with the real error as an SSE error event after the mapper, in the client's format: not
 * with the mapper's complaint about a line it could not read. Real gateway, real fake Ollama and
 * the official `openai` SDK.
 */

import assert from "node:assert/strict";
import OpenAI from "openai";
import { OLLAMA_MODELS, startOllama, USER, withGateway } from "./fakes/dialects/mod.ts";
import type { DialectFake } from "./fakes/dialects/server.ts";

const { native: NATIVE, cut: CUT } = OLLAMA_MODELS;

const mounts = (fake: DialectFake) => [
  { service: "chat" as const, model: NATIVE, fake, adapter: "ollama" as const, path: "/api/chat" },
  { service: "chat" as const, model: CUT, fake, adapter: "ollama" as const, path: "/api/chat" },
];

const stream = (url: string, path: string, model: string) =>
  fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, messages: USER, stream: true }),
  });

/** The error events of an SSE text, parsed. */
const errorsOf = (sse: string) =>
  sse.split("\n\n").filter((e) => e.startsWith("data: {")).map((e) => JSON.parse(e.slice(6)))
    .filter((e) => e.error).map((e) => e.error);

Deno.test("an Ollama NDJSON stream whose connection drops ends with the upstream's error after the mapped tokens", async () => {
  const fake = startOllama();
  await withGateway([fake], mounts(fake), async ({ gw, client }) => {
    const res = await stream(gw.url, "/v1/chat/completions", CUT);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/event-stream");
    const sse = await res.text();
    assert.ok(!sse.includes("not JSON"), sse);
    assert.ok(sse.includes('"role":"assistant"'), "the tokens before the cut arrived");
    assert.ok(!sse.includes("[DONE]"), "an incomplete answer is not marked done");
    const [error, ...more] = errorsOf(sse);
    assert.equal(more.length, 0);
    assert.equal(error.code, "upstream_stream_error");
    assert.match(error.message, /^Upstream stream ended abnormally: /);

    // The SDK raises it as an error with that message.
    const chunks = await client.chat.completions.create({ model: CUT, messages: USER, stream: true });
    await assert.rejects(
      (async () => {
        for await (const _ of chunks) { /* read to the end */ }
      })(),
      (e: unknown) => e instanceof OpenAI.APIError && /ended abnormally/.test(e.message),
    );

    // A client speaking Ollama's own API gets Ollama's error line, not the mapper's complaint.
    const native = await (await stream(gw.url, "/api/chat", CUT)).text();
    const last = JSON.parse(native.trim().split("\n").at(-1)!);
    assert.match(last.error, /ended abnormally/, native);
    assert.ok(!native.includes("not JSON"), native);
  });
});

Deno.test("a mapped stream cut at the shutdown deadline ends with the gateway_shutdown event", async () => {
  const fake = startOllama();
  await withGateway([fake], mounts(fake), async ({ gw }) => {
    const release = fake.hold(5000); // Ollama keeps its last line back: the stream stays open
    try {
      const res = await stream(gw.url, "/v1/chat/completions", NATIVE);
      assert.equal(res.status, 200);
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      let sse = "";
      while (!sse.includes('"role":"assistant"')) sse += (await reader.read()).value ?? "";
      assert.equal(gw.gateway.cut(), 1, "one attempt in flight");
      for (let r = await reader.read(); !r.done; r = await reader.read()) sse += r.value;
      assert.ok(!sse.includes("not JSON"), sse);
      const errors = errorsOf(sse);
      assert.equal(errors.length, 1, sse);
      assert.equal(errors[0].code, "gateway_shutdown");
    } finally {
      release();
    }
  });
});
