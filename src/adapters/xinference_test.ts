import assert from "node:assert/strict";
import { BadRequestError } from "../errors.ts";
import { callJson, fixtureJson, jsonInput, multipartInput } from "./_testing.ts";
import { xinferenceAdapter } from "./xinference.ts";

Deno.test("xinference normalises Cohere-style rerank with meta.tokens into sorted results and usage", async () => {
  const call = xinferenceAdapter.prepare(jsonInput("rerank", {
    model: "bge-reranker-base",
    query: "A man is eating pasta.",
    documents: [
      "A man is eating food.",
      { text: "A man is riding a horse." },
      "A man is eating a piece of bread.",
    ],
    return_documents: true,
    top_n: 2,
  }));
  assert.equal(call.url, "http://127.0.0.1:9000/v1/rerank");
  assert.deepEqual((callJson(call) as { documents: string[] }).documents, [
    "A man is eating food.",
    "A man is riding a horse.",
    "A man is eating a piece of bread.",
  ]);
  assert.deepEqual(call.mapJson!(await fixtureJson("xinference", "rerank_response.json")), {
    id: "480dca92-8910-11ee-a4b9-0242ac110002",
    results: [
      {
        index: 2,
        relevance_score: 0.9932443499565125,
        document: { text: "A man is eating a piece of bread." },
      },
      { index: 1, relevance_score: 0.4132881164550781, document: { text: "A man is riding a horse." } },
    ],
    usage: { prompt_tokens: 42, total_tokens: 42 },
  });
});

Deno.test("xinference accepts json and verbose_json transcriptions only", () => {
  for (const format of ["json", "verbose_json"]) {
    const input = multipartInput("stt", { model: "whisper-large-v3", response_format: format });
    assert.equal(xinferenceAdapter.prepare(input).body, input.body.bytes);
  }
  for (const format of ["text", "srt", "vtt"]) {
    assert.throws(
      () => xinferenceAdapter.prepare(multipartInput("stt", { model: "w", response_format: format })),
      BadRequestError,
    );
  }
  const defaulted = multipartInput("stt", { model: "w" });
  assert.equal(xinferenceAdapter.prepare(defaulted).body, defaulted.body.bytes);
});

Deno.test("xinference passes OpenAI speech formats and refuses others", () => {
  const input = jsonInput("tts", { model: "ChatTTS", input: "hi", voice: "echo", response_format: "flac" });
  const call = xinferenceAdapter.prepare(input);
  assert.equal(call.url, "http://127.0.0.1:9000/v1/audio/speech");
  assert.equal(call.body, input.body.bytes);
  assert.throws(
    () =>
      xinferenceAdapter.prepare(jsonInput("tts", { model: "ChatTTS", input: "hi", response_format: "ogg" })),
    BadRequestError,
  );
});

Deno.test("xinference forwards chat, embeddings and images untouched and probes /v1/models", () => {
  for (const service of ["chat", "embedding", "imgGen"] as const) {
    const input = jsonInput(service, { model: "m", extra: true });
    assert.equal(xinferenceAdapter.prepare(input).body, input.body.bytes);
  }
  assert.equal(
    xinferenceAdapter.probe("chat", { baseUrl: "http://h:9997", headers: {} }).url,
    "http://h:9997/v1/models",
  );
});
