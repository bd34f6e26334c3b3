import assert from "node:assert/strict";
import { BadRequestError } from "../errors.ts";
import { fixtureJson, jsonInput, multipartInput } from "./_testing.ts";
import { localaiAdapter } from "./localai.ts";

Deno.test("localai normalises its Jina-style rerank answer", async () => {
  const input = jsonInput("rerank", {
    model: "jina-reranker-v1-base-en",
    query: "Organic skincare",
    documents: ["a", "b", "c"],
    top_n: 2,
  });
  const call = localaiAdapter.prepare(input);
  assert.equal(call.url, "http://127.0.0.1:9000/v1/rerank");
  assert.equal(call.body, input.body.bytes);
  assert.deepEqual(call.mapJson!(await fixtureJson("localai", "rerank_response.json")), {
    model: "jina-reranker-v1-base-en",
    results: [
      {
        index: 0,
        relevance_score: 0.9,
        document: { text: "Organic skincare for sensitive skin with aloe vera and chamomile." },
      },
      { index: 2, relevance_score: 0.2, document: { text: "Organic cotton baby clothes." } },
    ],
    usage: { total_tokens: 29, prompt_tokens: 29 },
  });
});

Deno.test("localai reduces its {segments, text} transcription to OpenAI's {text} for json", async () => {
  const fixture = await fixtureJson("localai", "transcription_response.json");
  const cases: Record<string, string>[] = [{ model: "whisper-1" }, {
    model: "whisper-1",
    response_format: "json",
  }];
  for (const fields of cases) {
    const input = multipartInput("stt", fields);
    const call = localaiAdapter.prepare(input);
    assert.equal(call.body, input.body.bytes);
    assert.deepEqual(call.mapJson!(fixture), {
      text:
        " My fellow Americans, this day has brought terrible news. At 9 o'clock this morning, Mission Control lost contact.",
    });
  }
});

Deno.test("localai passes verbose_json, text, srt, vtt and lrc transcriptions through unmapped", () => {
  for (const format of ["verbose_json", "text", "srt", "vtt", "lrc"]) {
    const call = localaiAdapter.prepare(multipartInput("stt", { model: "w", response_format: format }));
    assert.equal(call.mapJson, undefined);
  }
  assert.throws(
    () => localaiAdapter.prepare(multipartInput("stt", { model: "w", response_format: "diarized_json" })),
    BadRequestError,
  );
});

Deno.test("localai forwards speech, images and chat untouched and probes /readyz", () => {
  const tts = jsonInput("tts", { model: "tts-1", input: "hi", voice: "alloy", backend: "piper" });
  assert.equal(localaiAdapter.prepare(tts).url, "http://127.0.0.1:9000/v1/audio/speech");
  assert.equal(localaiAdapter.prepare(tts).body, tts.body.bytes);
  assert.equal(
    localaiAdapter.prepare(jsonInput("imgGen", { prompt: "x" })).url,
    "http://127.0.0.1:9000/v1/images/generations",
  );
  assert.throws(() => localaiAdapter.prepare(multipartInput("imgEdit", { model: "sd" })), BadRequestError);
  assert.equal(
    localaiAdapter.probe("tts", { baseUrl: "http://h:8080", headers: {} }).url,
    "http://h:8080/readyz",
  );
});
