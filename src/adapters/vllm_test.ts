import assert from "node:assert/strict";
import { BadRequestError } from "../errors.ts";
import { callJson, fixtureJson, jsonInput, multipartInput } from "./_testing.ts";
import { vllmAdapter } from "./vllm.ts";

Deno.test("vllm forwards chat, completions and embeddings untouched", () => {
  const cases = [
    [
      jsonInput("chat", { model: "m", messages: [], guided_json: { type: "object" } }),
      "/v1/chat/completions",
    ],
    [jsonInput("chat", { model: "m", prompt: "x" }, { route: "/v1/completions" }), "/v1/completions"],
    [jsonInput("embedding", { model: "m", input: "x" }), "/v1/embeddings"],
  ] as const;
  for (const [input, path] of cases) {
    const call = vllmAdapter.prepare(input);
    assert.equal(call.url, `http://127.0.0.1:9000${path}`);
    assert.equal(call.body, input.body.bytes);
  }
});

Deno.test("vllm forwards rerank to /v1/rerank and normalises the answer", async () => {
  const input = jsonInput("rerank", { model: "bge", query: "capital of France?", documents: ["a", "b"] });
  const call = vllmAdapter.prepare(input);
  assert.equal(call.url, "http://127.0.0.1:9000/v1/rerank");
  assert.equal(call.body, input.body.bytes);
  assert.deepEqual(call.mapJson!(await fixtureJson("vllm", "rerank_response.json")), {
    id: "rerank-8c3b8a5e2f6d4e0b9a1c",
    model: "BAAI/bge-reranker-v2-m3",
    results: [
      { index: 1, relevance_score: 0.99853515625, document: { text: "The capital of France is Paris." } },
      {
        index: 0,
        relevance_score: 0.0005860328674316406,
        document: { text: "The capital of Brazil is Brasilia." },
      },
    ],
    usage: { total_tokens: 56 },
  });
});

Deno.test("vllm translates rerank to the score API when the instance path ends in /score", async () => {
  const call = vllmAdapter.prepare(jsonInput("rerank", {
    model: "bge",
    query: "What is the capital of France?",
    documents: ["The capital of Brazil is Brasilia.", { text: "The capital of France is Paris." }],
    return_documents: true,
    truncate_prompt_tokens: 512,
  }, { target: { path: "/v1/score" } }));
  assert.equal(call.url, "http://127.0.0.1:9000/v1/score");
  assert.deepEqual(callJson(call), {
    model: "bge",
    truncate_prompt_tokens: 512,
    text_1: "What is the capital of France?",
    text_2: ["The capital of Brazil is Brasilia.", "The capital of France is Paris."],
  });
  assert.deepEqual(call.mapJson!(await fixtureJson("vllm", "score_response.json")), {
    id: "score-request-id",
    model: "BAAI/bge-reranker-v2-m3",
    results: [
      { index: 1, relevance_score: 1, document: { text: "The capital of France is Paris." } },
      {
        index: 0,
        relevance_score: 0.001094818115234375,
        document: { text: "The capital of Brazil is Brasilia." },
      },
    ],
    usage: { prompt_tokens: 37, total_tokens: 37, completion_tokens: 0 },
  });
});

Deno.test("vllm passes json/text/verbose_json transcriptions and refuses srt and vtt", () => {
  for (const format of ["json", "text", "verbose_json"]) {
    const input = multipartInput("stt", { model: "whisper", response_format: format });
    assert.equal(vllmAdapter.prepare(input).body, input.body.bytes);
  }
  for (const format of ["srt", "vtt"]) {
    assert.throws(
      () => vllmAdapter.prepare(multipartInput("stt", { model: "whisper", response_format: format })),
      (e) =>
        e instanceof BadRequestError && e.message.includes(`"${format}"`) && e.param === "response_format",
    );
  }
});

Deno.test("vllm rejects speech and images", () => {
  for (const service of ["tts", "imgGen", "imgEdit"] as const) {
    assert.throws(() => vllmAdapter.prepare(jsonInput(service, { model: "m" })), BadRequestError);
  }
});

Deno.test("vllm probes GET /health with the key", () => {
  const probe = vllmAdapter.probe("chat", { baseUrl: "http://h:8000", apiKey: "token-abc", headers: {} });
  assert.equal(probe.url, "http://h:8000/health");
  assert.equal(probe.headers.get("authorization"), "Bearer token-abc");
});
