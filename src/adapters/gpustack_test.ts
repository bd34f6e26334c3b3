import assert from "node:assert/strict";
import { fixtureJson, headersObject, jsonInput, multipartInput } from "./_testing.ts";
import { GPUSTACK_PATHS, gpustackAdapter } from "./gpustack.ts";

const BASE = "http://127.0.0.1:9090";

Deno.test("gpustack sends each service to its /v1-openai path and rerank to /v1/rerank", () => {
  const cases = [
    [jsonInput("chat", { messages: [] }, { target: { baseUrl: BASE } }), "/v1-openai/chat/completions"],
    [
      jsonInput("chat", { prompt: "x" }, { route: "/v1/completions", target: { baseUrl: BASE } }),
      "/v1-openai/completions",
    ],
    [jsonInput("embedding", { input: "x" }, { target: { baseUrl: BASE } }), "/v1-openai/embeddings"],
    [jsonInput("rerank", { query: "q", documents: ["a"] }, { target: { baseUrl: BASE } }), "/v1/rerank"],
    [
      jsonInput("tts", { input: "x", voice: "Chinese Female" }, { target: { baseUrl: BASE } }),
      "/v1-openai/audio/speech",
    ],
    [multipartInput("stt", { model: "w" }, { target: { baseUrl: BASE } }), "/v1-openai/audio/transcriptions"],
    [jsonInput("imgGen", { prompt: "x" }, { target: { baseUrl: BASE } }), "/v1-openai/images/generations"],
    [multipartInput("imgEdit", { prompt: "x" }, { target: { baseUrl: BASE } }), "/v1-openai/images/edits"],
  ] as const;
  for (const [input, path] of cases) {
    const call = gpustackAdapter.prepare(input);
    assert.equal(call.url, `${BASE}${path}`);
    assert.equal(call.body, input.body.bytes);
  }
});

Deno.test("gpustack honours the seed's configured paths, including /v1/chat/completions", () => {
  const target = { baseUrl: `${BASE}/`, path: "/v1/chat/completions", apiKey: "gpustack_abc" };
  const call = gpustackAdapter.prepare(jsonInput("chat", { messages: [] }, { target }));
  assert.equal(call.url, `${BASE}/v1/chat/completions`);
  assert.deepEqual(headersObject(call.headers), {
    authorization: "Bearer gpustack_abc",
    "content-type": "application/json",
  });
});

Deno.test("gpustack normalises its Jina rerank answer", async () => {
  const call = gpustackAdapter.prepare(jsonInput("rerank", {
    model: "bge-reranker-v2-m3",
    query: "What is a panda?",
    top_n: 3,
    documents: ["hi", "it is a bear", "panda is an animal", "i dont know"],
  }));
  assert.deepEqual(call.mapJson!(await fixtureJson("gpustack", "rerank_response.json")), {
    model: "bge-reranker-v2-m3",
    results: [
      { index: 2, relevance_score: 1.6, document: { text: "panda is an animal" } },
      { index: 1, relevance_score: -2.2, document: { text: "it is a bear" } },
      { index: 3, relevance_score: -6.5, document: { text: "i dont know" } },
    ],
    usage: { total_tokens: 45, prompt_tokens: 45 },
  });
});

Deno.test("gpustack probes GET /v1-openai/models with its key", () => {
  const probe = gpustackAdapter.probe("chat", { baseUrl: BASE, apiKey: "k", headers: {} });
  assert.equal(probe.url, `${BASE}${GPUSTACK_PATHS.probe}`);
  assert.equal(probe.headers.get("authorization"), "Bearer k");
});
