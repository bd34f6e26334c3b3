/**
 * Adapters end to end (issue 5), serving platforms: GPUStack, Xinference and LocalAI, each behind
 * a real gateway, driven by the official `openai` SDK against a fake speaking its dialect.
 */

import assert from "node:assert/strict";
import OpenAI from "openai";
import {
  assertProbe,
  assertRefused,
  audioFile,
  DOCS,
  GPUSTACK_KEY,
  probeFake,
  REPLY_WORDS,
  responseText,
  startGpustack,
  startLocalai,
  startXinference,
  USER,
  vectorOf,
  withGateway,
} from "./fakes/dialects/mod.ts";
import type { AdapterName, ServiceKind } from "../src/types.ts";

const REPLY = REPLY_WORDS.join("");

function refusedWith(pattern: RegExp) {
  return (e: unknown) => e instanceof OpenAI.BadRequestError && pattern.test(e.message);
}

Deno.test("gpustack adapter: every service under /v1-openai with the instance key, /v1/rerank, keyed probe", async () => {
  const fake = startGpustack();
  const on = (service: ServiceKind, model: string) => ({
    service,
    model,
    fake,
    adapter: "gpustack" as AdapterName,
    apiKey: GPUSTACK_KEY,
  });
  const mounts = [
    on("chat", "qwen3"),
    on("embedding", "bge-m3"),
    on("rerank", "bge-reranker"),
    on("tts", "cosyvoice"),
    on("stt", "whisper"),
    on("imgGen", "sd"),
    on("imgEdit", "sd"),
  ];
  await withGateway([fake], mounts, async ({ client, post }) => {
    const chat = await client.chat.completions.create({ model: "qwen3", messages: USER });
    assert.equal(chat.choices[0].message.content, REPLY);
    const seen = fake.last("/v1-openai/chat/completions");
    assert.equal(
      seen.headers.get("authorization"),
      `Bearer ${GPUSTACK_KEY}`,
      "the client's key never goes upstream",
    );
    const stream = await client.chat.completions.create({ model: "qwen3", messages: USER, stream: true });
    const parts: string[] = [];
    for await (const chunk of stream) parts.push(chunk.choices[0]?.delta?.content ?? "");
    assert.equal(parts.join(""), REPLY);

    const emb = await client.embeddings.create({ model: "bge-m3", input: ["a", "b"] });
    assert.deepEqual(emb.data.map((d) => d.embedding), [vectorOf(0), vectorOf(1)]);
    assert.equal(fake.requests.at(-1)?.path, "/v1-openai/embeddings");

    const rr = await post("/v1/rerank", { model: "bge-reranker", query: "deno", documents: DOCS, top_n: 2 });
    assert.deepEqual(rr.body, {
      model: "bge-reranker",
      results: [
        { index: 1, relevance_score: 0.89, document: { text: "deno runtime" } },
        { index: 3, relevance_score: 0.87, document: { text: "deno deploy" } },
      ],
      usage: { prompt_tokens: 16, total_tokens: 16 },
    });
    assert.equal(fake.requests.at(-1)?.path, "/v1/rerank");
    await assertRefused(post, fake, [{
      path: "/v1/rerank",
      body: { model: "bge-reranker", query: "deno", documents: "deno runtime" },
      error: '"documents" must be an array of strings or {text} objects.',
    }]);

    const speech = await client.audio.speech.create({
      model: "cosyvoice",
      voice: "alloy",
      input: "hey",
      response_format: "wav",
    });
    assert.equal(speech.headers.get("content-type"), "audio/wav");
    assert.equal(await responseText(speech), "RIFFgpustack:wav:hey");
    const vtt = await client.audio.transcriptions.create({
      model: "whisper",
      file: await audioFile(),
      response_format: "vtt",
    });
    assert.match(String(vtt), /^WEBVTT\n\n.*\ngpustack heard 16 bytes/);
    const img = await client.images.generate({ model: "sd", prompt: "a cat" });
    assert.equal(atob(img.data?.[0].b64_json ?? ""), "gpustack:a cat");
    const edit = await client.images.edit({ model: "sd", prompt: "hat", image: await audioFile() });
    assert.equal(atob(edit.data?.[0].b64_json ?? ""), "gpustack:hat:16");
    assert.equal(fake.requests.at(-1)?.path, "/v1-openai/images/edits");

    await assertProbe(fake, {
      adapter: "gpustack",
      service: "chat",
      path: "/v1-openai/models",
      apiKey: GPUSTACK_KEY,
    });
    const keyless = await probeFake("gpustack", "chat", fake);
    assert.equal(keyless.status, 401, "without the key GPUStack refuses, so the probe must carry it");
  });
});

Deno.test("xinference adapter: Cohere rerank with meta.tokens, speech and Whisper formats, images, /v1/models", async () => {
  const fake = startXinference();
  const on = (service: ServiceKind, model: string) => ({
    service,
    model,
    fake,
    adapter: "xinference" as AdapterName,
  });
  const mounts = [
    on("chat", "qwen3"),
    on("embedding", "bge-m3"),
    on("rerank", "bge-reranker-v2-m3"),
    on("tts", "ChatTTS"),
    on("stt", "whisper-large-v3"),
    on("imgGen", "sd3"),
  ];
  await withGateway([fake], mounts, async ({ client, post }) => {
    const chat = await client.chat.completions.create({ model: "qwen3", messages: USER });
    assert.equal(chat.system_fingerprint, "fp_xinference");
    const emb = await client.embeddings.create({ model: "bge-m3", input: "a" });
    assert.deepEqual(
      emb.data[0].embedding,
      vectorOf(0),
      "float answers to the SDK's base64 request still decode",
    );

    const rr = await post("/v1/rerank", {
      model: "bge-reranker-v2-m3",
      query: "deno",
      documents: DOCS,
      return_documents: true,
    });
    assert.equal(rr.status, 200);
    assert.deepEqual(rr.body, {
      id: "rerank-xinference",
      results: [
        { index: 1, relevance_score: 0.89, document: { text: "deno runtime" } },
        { index: 3, relevance_score: 0.87, document: { text: "deno deploy" } },
        { index: 2, relevance_score: 0.12, document: { text: "rust crabs" } },
        { index: 0, relevance_score: 0.1, document: { text: "python snakes" } },
      ],
      usage: { prompt_tokens: 20, total_tokens: 20 },
    });
    const bare = await post("/v1/rerank", {
      model: "bge-reranker-v2-m3",
      query: "deno",
      documents: DOCS,
      top_n: 1,
    });
    assert.deepEqual(bare.body.results, [{ index: 1, relevance_score: 0.89 }], "document: null is dropped");

    const speech = await client.audio.speech.create({ model: "ChatTTS", voice: "alloy", input: "hey" });
    assert.equal(await responseText(speech), "RIFFxinference:mp3:hey");
    await assert.rejects(
      client.audio.speech.create({
        model: "ChatTTS",
        voice: "alloy",
        input: "x",
        response_format: "ogg" as "mp3",
      }),
      refusedWith(/response_format "ogg" is not supported by Xinference speech; use one of: mp3, opus/),
    );
    const verbose = await client.audio.transcriptions.create({
      model: "whisper-large-v3",
      file: await audioFile(),
      response_format: "verbose_json",
    });
    assert.equal(verbose.text, "xinference heard 16 bytes");
    for (const format of ["srt", "text"] as const) {
      await assert.rejects(
        client.audio.transcriptions.create({
          model: "whisper-large-v3",
          file: await audioFile(),
          response_format: format,
        }),
        refusedWith(new RegExp(`"${format}" is not supported by Xinference transcription`)),
      );
    }
    const img = await client.images.generate({ model: "sd3", prompt: "a cat" });
    assert.equal(atob(img.data?.[0].b64_json ?? ""), "xinference:a cat");

    await assertProbe(fake, { adapter: "xinference", service: "rerank", path: "/v1/models" });
  });
});

Deno.test("localai adapter: rerank sorted, WAV speech, {segments,text} transcription as {text}, no image edits, /readyz", async () => {
  const fake = startLocalai();
  const on = (service: ServiceKind, model: string) => ({
    service,
    model,
    fake,
    adapter: "localai" as AdapterName,
  });
  const mounts = [
    on("chat", "phi-2"),
    on("embedding", "bert"),
    on("rerank", "jina-reranker"),
    on("tts", "piper"),
    on("stt", "whisper-1"),
    on("imgGen", "sd"),
    on("imgEdit", "sd"),
  ];
  await withGateway([fake], mounts, async ({ client, post }) => {
    const stream = await client.chat.completions.create({ model: "phi-2", messages: USER, stream: true });
    const parts: string[] = [];
    for await (const chunk of stream) parts.push(chunk.choices[0]?.delta?.content ?? "");
    assert.equal(parts.join(""), REPLY);
    const emb = await client.embeddings.create({ model: "bert", input: ["a", "b"] });
    assert.deepEqual(emb.data.map((d) => d.embedding), [vectorOf(0), vectorOf(1)]);

    const rr = await post("/v1/rerank", {
      model: "jina-reranker",
      query: "deno",
      documents: DOCS.map((text) => ({ text })),
      top_n: 3,
    });
    assert.deepEqual(rr.body.results, [
      { index: 1, relevance_score: 0.89, document: { text: "deno runtime" } },
      { index: 3, relevance_score: 0.87, document: { text: "deno deploy" } },
      { index: 2, relevance_score: 0.12, document: { text: "rust crabs" } },
    ]);
    assert.deepEqual(rr.body.usage, { total_tokens: 12, prompt_tokens: 12 });
    assert.deepEqual(
      fake.last("/v1/rerank").json?.documents,
      DOCS,
      "{text} documents are flattened for LocalAI",
    );

    const speech = await client.audio.speech.create({
      model: "piper",
      voice: "en",
      input: "hey",
      response_format: "wav",
    });
    assert.equal(await responseText(speech), "RIFFlocalai:wav:hey");
    const json = await client.audio.transcriptions.create({ model: "whisper-1", file: await audioFile() });
    assert.deepEqual(json, { text: "localai heard 16 bytes" });
    const text = await client.audio.transcriptions.create({
      model: "whisper-1",
      file: await audioFile(),
      response_format: "text",
    });
    assert.equal(String(text), "localai heard 16 bytes");
    const img = await client.images.generate({ model: "sd", prompt: "a cat" });
    assert.equal(atob(img.data?.[0].b64_json ?? ""), "localai:a cat");
    await assert.rejects(
      client.images.edit({ model: "sd", prompt: "hat", image: await audioFile() }),
      refusedWith(/The LocalAI backend does not serve image editing\./),
    );

    await assertProbe(fake, { adapter: "localai", service: "chat", path: "/readyz" });
  });
});
