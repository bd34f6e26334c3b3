import assert from "node:assert/strict";
import { BadRequestError } from "../errors.ts";
import { callJson, fixtureJson, headersObject, jsonInput, multipartInput } from "./_testing.ts";
import { openaiAdapter } from "./openai.ts";

Deno.test("openai forwards a chat request byte for byte to base-url + /v1/chat/completions", async () => {
  const value = await fixtureJson("openai", "chat_request.json") as Record<string, unknown>;
  const input = jsonInput("chat", value, {
    target: { baseUrl: "http://127.0.0.1:9000/", apiKey: "sk-up", headers: { "x-tenant": "t1" } },
    headers: { "x-request-id": "r-1", "content-length": "999" },
  });
  const call = openaiAdapter.prepare(input);
  assert.equal(call.method, "POST");
  assert.equal(call.url, "http://127.0.0.1:9000/v1/chat/completions");
  assert.equal(call.body, input.body.bytes);
  assert.deepEqual(headersObject(call.headers), {
    authorization: "Bearer sk-up",
    "content-type": "application/json",
    "x-request-id": "r-1",
    "x-tenant": "t1",
  });
  assert.equal(call.mapJson, undefined);
  assert.equal(call.mapStream, undefined);
});

Deno.test("openai keeps tools, response_format, image parts and vendor extras (unchanged bytes)", async () => {
  const value = await fixtureJson("openai", "chat_request.json") as Record<string, unknown>;
  const call = openaiAdapter.prepare(jsonInput("chat", value));
  assert.deepEqual(callJson(call), value);
});

Deno.test("openai lets instance headers override the auth header it set", () => {
  const call = openaiAdapter.prepare(jsonInput("embedding", { model: "e", input: "x" }, {
    target: { apiKey: "k", headers: { Authorization: "Token custom" } },
  }));
  assert.equal(call.headers.get("authorization"), "Token custom");
});

Deno.test("openai sends no authorization header when the instance has no key", () => {
  const call = openaiAdapter.prepare(jsonInput("embedding", { model: "e", input: "x" }));
  assert.equal(call.headers.get("authorization"), null);
  assert.equal(call.url, "http://127.0.0.1:9000/v1/embeddings");
});

Deno.test("openai routes /v1/completions to /v1/completions by default", () => {
  const call = openaiAdapter.prepare(
    jsonInput("chat", { model: "m", prompt: "hi" }, { route: "/v1/completions" }),
  );
  assert.equal(call.url, "http://127.0.0.1:9000/v1/completions");
});

Deno.test("openai turns a configured .../chat/completions path into .../completions for /v1/completions", () => {
  const target = { baseUrl: "http://h:1/", path: "/v1-openai/chat/completions" };
  const legacy = openaiAdapter.prepare(
    jsonInput("chat", { prompt: "hi" }, { route: "/v1/completions", target }),
  );
  assert.equal(legacy.url, "http://h:1/v1-openai/completions");
  const chat = openaiAdapter.prepare(jsonInput("chat", { messages: [] }, { target }));
  assert.equal(chat.url, "http://h:1/v1-openai/chat/completions");
});

Deno.test("openai uses each service's default OpenAI path", () => {
  const cases = [
    ["rerank", "/v1/rerank"],
    ["tts", "/v1/audio/speech"],
    ["imgGen", "/v1/images/generations"],
  ] as const;
  for (const [service, path] of cases) {
    assert.equal(
      openaiAdapter.prepare(jsonInput(service, { model: "m" })).url,
      `http://127.0.0.1:9000${path}`,
    );
  }
});

Deno.test("openai forwards multipart bodies as bytes with their boundary (stt, imgEdit)", () => {
  for (const service of ["stt", "imgEdit"] as const) {
    const input = multipartInput(service, { model: "w", response_format: "vtt" });
    const call = openaiAdapter.prepare(input);
    assert.equal(call.body, input.body.bytes);
    assert.equal(
      call.headers.get("content-type"),
      "multipart/form-data; boundary=----dairouter-test-boundary",
    );
  }
  const stt = openaiAdapter.prepare(multipartInput("stt", { model: "w" }));
  assert.equal(stt.url, "http://127.0.0.1:9000/v1/audio/transcriptions");
  const edit = openaiAdapter.prepare(multipartInput("imgEdit", { model: "w" }));
  assert.equal(edit.url, "http://127.0.0.1:9000/v1/images/edits");
});

Deno.test("openai passes every audio response_format through", () => {
  const tts = jsonInput("tts", { model: "t", input: "hi", voice: "alloy", response_format: "pcm" });
  assert.equal(openaiAdapter.prepare(tts).body, tts.body.bytes);
  const stt = multipartInput("stt", { model: "w", response_format: "srt" });
  assert.equal(openaiAdapter.prepare(stt).body, stt.body.bytes);
});

Deno.test("openai forwards a string-document rerank untouched and sorts the answer by score", async () => {
  const value = {
    model: "bge",
    query: "Where is the Eiffel Tower?",
    documents: ["a", "b", "c"],
    top_n: 2,
    x: 1,
  };
  const input = jsonInput("rerank", value);
  const call = openaiAdapter.prepare(input);
  assert.equal(call.body, input.body.bytes);
  assert.ok(call.mapJson);
  assert.deepEqual(call.mapJson(await fixtureJson("openai", "rerank_response.json")), {
    id: "rerank-7f0c",
    model: "bge-reranker-v2-m3",
    results: [
      { index: 2, relevance_score: 0.93, document: { text: "The Eiffel Tower is in Paris." } },
      { index: 0, relevance_score: 0.21, document: { text: "Paris is the capital of France." } },
    ],
    usage: { total_tokens: 38 },
  });
});

Deno.test("openai flattens {text} rerank documents to strings and keeps unknown fields", () => {
  const call = openaiAdapter.prepare(jsonInput("rerank", {
    model: "bge",
    query: "q",
    documents: [{ text: "a" }, "b"],
    return_documents: false,
    vendor: { x: 1 },
  }));
  assert.deepEqual(callJson(call), {
    model: "bge",
    query: "q",
    documents: ["a", "b"],
    return_documents: false,
    vendor: { x: 1 },
  });
});

Deno.test("openai probes GET {base}/v1/models with the auth header", () => {
  const probe = openaiAdapter.probe("chat", { baseUrl: "http://h:1/", apiKey: "k", headers: { "x-a": "b" } });
  assert.equal(probe.url, "http://h:1/v1/models");
  assert.equal(probe.method, "GET");
  assert.equal(probe.body, undefined);
  assert.deepEqual(headersObject(probe.headers), { authorization: "Bearer k", "x-a": "b" });
});

Deno.test("openai rejects a non-array rerank documents field", () => {
  assert.throws(
    () => openaiAdapter.prepare(jsonInput("rerank", { query: "q", documents: "nope" })),
    BadRequestError,
  );
});
