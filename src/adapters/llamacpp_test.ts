import assert from "node:assert/strict";
import { BadRequestError } from "../errors.ts";
import { callJson, fixtureJson, jsonInput } from "./_testing.ts";
import { llamacppAdapter } from "./llamacpp.ts";

Deno.test("llamacpp fills documents from the request when its rerank answer has none", async () => {
  const call = llamacppAdapter.prepare(jsonInput("rerank", {
    model: "bge-reranker-v2-m3",
    query: "What is panda?",
    documents: ["hi", { text: "The giant panda is a bear species endemic to China." }, "it is a bear"],
    return_documents: true,
  }));
  assert.equal(call.url, "http://127.0.0.1:9000/v1/rerank");
  assert.deepEqual((callJson(call) as { documents: string[] }).documents, [
    "hi",
    "The giant panda is a bear species endemic to China.",
    "it is a bear",
  ]);
  assert.deepEqual(call.mapJson!(await fixtureJson("llamacpp", "rerank_response.json")), {
    model: "bge-reranker-v2-m3",
    results: [
      {
        index: 1,
        relevance_score: 7.1,
        document: { text: "The giant panda is a bear species endemic to China." },
      },
      { index: 2, relevance_score: -1.2, document: { text: "it is a bear" } },
      { index: 0, relevance_score: -6.9, document: { text: "hi" } },
    ],
    usage: { prompt_tokens: 51, total_tokens: 51 },
  });
});

Deno.test("llamacpp forwards chat, completions and embeddings, probes /health, lacks audio", () => {
  const chat = jsonInput("chat", { model: "m", messages: [], cache_prompt: true });
  assert.equal(llamacppAdapter.prepare(chat).body, chat.body.bytes);
  const legacy = llamacppAdapter.prepare(jsonInput("chat", { prompt: "x" }, { route: "/v1/completions" }));
  assert.equal(legacy.url, "http://127.0.0.1:9000/v1/completions");
  assert.equal(
    llamacppAdapter.prepare(jsonInput("embedding", { input: "x" })).url,
    "http://127.0.0.1:9000/v1/embeddings",
  );
  assert.throws(() => llamacppAdapter.prepare(jsonInput("tts", { input: "x" })), BadRequestError);
  assert.equal(
    llamacppAdapter.probe("chat", { baseUrl: "http://h:8081", headers: {} }).url,
    "http://h:8081/health",
  );
});
