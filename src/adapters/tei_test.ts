import assert from "node:assert/strict";
import { BadRequestError } from "../errors.ts";
import { callJson, fixtureJson, headersObject, jsonInput } from "./_testing.ts";
import { teiAdapter } from "./tei.ts";

const BASE = "http://127.0.0.1:8080";

Deno.test("tei translates embeddings to /embed {inputs} and keeps vendor fields", () => {
  const call = teiAdapter.prepare(jsonInput("embedding", {
    model: "bge-large-zh-v1.5",
    input: ["a", "b"],
    encoding_format: "float",
    truncate: true,
    user: "u1",
  }, { target: { baseUrl: BASE, apiKey: "hf_x", headers: { "x-a": "1" } } }));
  assert.equal(call.url, `${BASE}/embed`);
  assert.equal(call.method, "POST");
  assert.deepEqual(headersObject(call.headers), {
    authorization: "Bearer hf_x",
    "content-type": "application/json",
    "x-a": "1",
  });
  assert.deepEqual(callJson(call), { truncate: true, inputs: ["a", "b"] });
});

Deno.test("tei sends a single string input as a single string", () => {
  const call = teiAdapter.prepare(jsonInput("embedding", { model: "m", input: "one" }));
  assert.deepEqual(callJson(call), { inputs: "one" });
});

Deno.test("tei maps the bare [[...]] answer to the OpenAI embeddings list", async () => {
  const call = teiAdapter.prepare(jsonInput("embedding", { model: "bge", input: ["a", "b"] }));
  assert.deepEqual(call.mapJson!(await fixtureJson("tei", "embed_response.json")), {
    object: "list",
    data: [
      { object: "embedding", index: 0, embedding: [0.0123, -0.0456, 0.0789] },
      { object: "embedding", index: 1, embedding: [0.5, 0.25, -0.125] },
    ],
    model: "bge",
    usage: { prompt_tokens: 0, total_tokens: 0 },
  });
});

Deno.test("tei forwards a configured OpenAI /v1/embeddings path untouched", () => {
  const input = jsonInput("embedding", { model: "m", input: "x" }, { target: { path: "/v1/embeddings" } });
  const call = teiAdapter.prepare(input);
  assert.equal(call.url, "http://127.0.0.1:9000/v1/embeddings");
  assert.equal(call.body, input.body.bytes);
});

Deno.test("tei translates rerank to /rerank {query, texts, return_text}", () => {
  const call = teiAdapter.prepare(jsonInput("rerank", {
    model: "bge-reranker",
    query: "What is Deep Learning?",
    documents: ["Cheese is made from milk.", { text: "Deep Learning is a subset of machine learning." }],
    top_n: 2,
    return_documents: true,
    raw_scores: false,
  }, { target: { baseUrl: BASE } }));
  assert.equal(call.url, `${BASE}/rerank`);
  assert.deepEqual(callJson(call), {
    raw_scores: false,
    query: "What is Deep Learning?",
    texts: ["Cheese is made from milk.", "Deep Learning is a subset of machine learning."],
    return_text: true,
  });
});

Deno.test("tei maps [{index, score, text}] to sorted results cut to top_n", async () => {
  const call = teiAdapter.prepare(jsonInput("rerank", {
    model: "bge-reranker",
    query: "q",
    documents: ["a", "b", "c"],
    top_n: 2,
    return_documents: true,
  }));
  assert.deepEqual(call.mapJson!(await fixtureJson("tei", "rerank_response.json")), {
    model: "bge-reranker",
    results: [
      {
        index: 1,
        relevance_score: 0.9988,
        document: { text: "Deep Learning is a subset of machine learning." },
      },
      {
        index: 2,
        relevance_score: 0.9954,
        document: { text: "Deep learning uses neural networks with many layers." },
      },
    ],
  });
});

Deno.test("tei omits documents when the client did not ask for them", async () => {
  const call = teiAdapter.prepare(
    jsonInput("rerank", { model: "r", query: "q", documents: ["a", "b", "c"] }),
  );
  const out = call.mapJson!(await fixtureJson("tei", "rerank_response.json")) as { results: object[] };
  assert.deepEqual(out.results.map((r) => Object.keys(r)), [
    ["index", "relevance_score", "document"],
    ["index", "relevance_score", "document"],
    ["index", "relevance_score", "document"],
  ]);
  const stripped = teiAdapter.prepare(jsonInput("rerank", {
    model: "r",
    query: "q",
    documents: ["a", "b", "c"],
    return_documents: false,
  }));
  const out2 = stripped.mapJson!(await fixtureJson("tei", "rerank_response.json")) as { results: object[] };
  assert.ok(out2.results.every((r) => !("document" in r)));
});

Deno.test("tei refuses non-text documents and chat with a BadRequestError", () => {
  assert.throws(
    () => teiAdapter.prepare(jsonInput("rerank", { query: "q", documents: [{ image: "x" }] })),
    BadRequestError,
  );
  assert.throws(() => teiAdapter.prepare(jsonInput("chat", { model: "m", messages: [] })), BadRequestError);
  assert.throws(
    () => teiAdapter.prepare(jsonInput("chat", { model: "m", prompt: "x" }, { route: "/v1/completions" })),
    BadRequestError,
  );
});

Deno.test("tei probes GET /health", () => {
  assert.equal(teiAdapter.probe("rerank", { baseUrl: `${BASE}/`, headers: {} }).url, `${BASE}/health`);
});
