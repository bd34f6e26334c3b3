import assert from "node:assert/strict";
import { BadRequestError } from "../errors.ts";
import { jsonInput } from "./_testing.ts";
import { tritonAdapter } from "./triton.ts";

Deno.test("triton forwards chat, completions and embeddings untouched", () => {
  const chat = jsonInput("chat", { model: "llama-3.1-8b-instruct", messages: [], stream: true }, {
    stream: true,
  });
  const call = tritonAdapter.prepare(chat);
  assert.equal(call.url, "http://127.0.0.1:9000/v1/chat/completions");
  assert.equal(call.body, chat.body.bytes);
  assert.equal(call.mapStream, undefined);
  assert.equal(
    tritonAdapter.prepare(jsonInput("chat", { prompt: "x" }, { route: "/v1/completions" })).url,
    "http://127.0.0.1:9000/v1/completions",
  );
  assert.equal(
    tritonAdapter.prepare(jsonInput("embedding", { input: "x" })).url,
    "http://127.0.0.1:9000/v1/embeddings",
  );
});

Deno.test("triton rejects rerank and audio, and probes /v1/models", () => {
  for (const service of ["rerank", "tts", "imgGen"] as const) {
    assert.throws(() => tritonAdapter.prepare(jsonInput(service, { model: "m" })), BadRequestError);
  }
  assert.equal(
    tritonAdapter.probe("chat", { baseUrl: "http://h:9000", headers: {} }).url,
    "http://h:9000/v1/models",
  );
});
