import assert from "node:assert/strict";
import { BadRequestError } from "../errors.ts";
import { fixtureJson, jsonInput } from "./_testing.ts";
import { infinityAdapter } from "./infinity.ts";

Deno.test("infinity normalises data[] rerank answers with string documents", async () => {
  const input = jsonInput("rerank", {
    model: "mixedbread-ai/mxbai-rerank-xsmall-v1",
    query: "What is the capital of the United States?",
    documents: ["a", "b", "c"],
    return_documents: true,
  });
  const call = infinityAdapter.prepare(input);
  assert.equal(call.url, "http://127.0.0.1:9000/rerank");
  assert.equal(call.body, input.body.bytes);
  assert.deepEqual(call.mapJson!(await fixtureJson("infinity", "rerank_response.json")), {
    id: "infinity-2ddf3eec-3a59-4c8b-a4c1-7a3a1e1d5a52",
    model: "mixedbread-ai/mxbai-rerank-xsmall-v1",
    results: [
      {
        index: 2,
        relevance_score: 0.9876,
        document: { text: "Washington, D.C. is the capital of the United States." },
      },
      {
        index: 1,
        relevance_score: 0.3456,
        document: {
          text: "Capital punishment has existed in the United States since before it was a country.",
        },
      },
      {
        index: 0,
        relevance_score: 0.0123,
        document: { text: "Carson City is the capital city of the American state of Nevada." },
      },
    ],
    usage: { prompt_tokens: 62, total_tokens: 62 },
  });
});

Deno.test("infinity forwards embeddings to /embeddings untouched and probes /health", () => {
  const input = jsonInput("embedding", {
    model: "BAAI/bge-small-en-v1.5",
    input: ["x"],
    encoding_format: "base64",
  });
  const call = infinityAdapter.prepare(input);
  assert.equal(call.url, "http://127.0.0.1:9000/embeddings");
  assert.equal(call.body, input.body.bytes);
  assert.equal(call.mapJson, undefined);
  assert.throws(() => infinityAdapter.prepare(jsonInput("chat", { messages: [] })), BadRequestError);
  assert.equal(
    infinityAdapter.probe("rerank", { baseUrl: "http://h:7997", headers: {} }).url,
    "http://h:7997/health",
  );
});
