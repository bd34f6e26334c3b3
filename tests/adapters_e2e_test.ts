/**
 * Adapters end to end (issue 5): the official `openai` SDK → a real gateway → a fake server
 * speaking each backend's dialect, over real sockets. LLM servers here (openai, vLLM, llama.cpp,
 * Triton); Ollama, platforms, embedding servers and the field-survival test in sibling files.
 */

import assert from "node:assert/strict";
import OpenAI from "openai";
import {
  assertProbe,
  assertRefusedAndProbe,
  audioFile,
  DOCS,
  REPLY_WORDS,
  responseText,
  startLlamacpp,
  startOpenai,
  startTriton,
  startVllm,
  streamChat,
  USER,
  vectorOf,
  withGateway,
} from "./fakes/dialects/mod.ts";

const REPLY = REPLY_WORDS.join("");

Deno.test("openai adapter passes all seven services through and probes GET /v1/models", async () => {
  const fake = startOpenai();
  const on = (
    service: "chat" | "embedding" | "rerank" | "tts" | "stt" | "imgGen" | "imgEdit",
    model: string,
  ) => ({
    service,
    model,
    fake,
    adapter: "normal" as const,
  });
  const mounts = [
    on("chat", "gpt"),
    on("embedding", "emb"),
    on("rerank", "rr"),
    on("tts", "tts"),
    on("stt", "whisper"),
    on("imgGen", "sd"),
    on("imgEdit", "sd"),
  ];
  await withGateway([fake], mounts, async ({ client, post }) => {
    const chat = await client.chat.completions.create({ model: "gpt", messages: USER });
    assert.equal(chat.choices[0].message.content, REPLY);
    const streamed = await streamChat(client, "gpt", fake);
    assert.equal(streamed.text, REPLY);
    assert.equal(streamed.openAtFirst, 1, "the first chunk arrived while the upstream was still sending");

    const emb = await client.embeddings.create({ model: "emb", input: ["a", "b"] });
    assert.deepEqual(emb.data.map((d) => d.embedding), [vectorOf(0), vectorOf(1)]);
    assert.equal(fake.last("/v1/embeddings").json?.encoding_format, "base64");

    const rr = await post("/v1/rerank", { model: "rr", query: "deno", documents: DOCS, top_n: 2 });
    assert.equal(rr.status, 200);
    assert.deepEqual(rr.body.results, [
      { index: 1, relevance_score: 0.89, document: { text: "deno runtime" } },
      { index: 3, relevance_score: 0.87, document: { text: "deno deploy" } },
    ]);

    const speech = await client.audio.speech.create({ model: "tts", voice: "alloy", input: "hey" });
    assert.equal(await responseText(speech), "RIFFopenai:mp3:hey");
    const srt = await client.audio.transcriptions.create({
      model: "whisper",
      file: await audioFile(),
      response_format: "srt",
    });
    assert.match(String(srt), /^1\n00:00:00,000 --> 00:00:01,000\nopenai heard 16 bytes/);
    const img = await client.images.generate({ model: "sd", prompt: "a cat" });
    assert.equal(atob(img.data?.[0].b64_json ?? ""), "openai:a cat");
    const edit = await client.images.edit({ model: "sd", prompt: "hat", image: await audioFile() });
    assert.equal(atob(edit.data?.[0].b64_json ?? ""), "openai:hat:16");
    await assertProbe(fake, { adapter: "normal", service: "chat", path: "/v1/models" });
  });
});

Deno.test("vllm adapter: chat, embeddings, /v1/rerank, /v1/score as rerank, transcription formats, /health", async () => {
  const fake = startVllm();
  const mounts = [
    { service: "chat" as const, model: "qwen3", fake, adapter: "vllm" as const },
    { service: "embedding" as const, model: "bge-m3", fake, adapter: "vllm" as const },
    { service: "rerank" as const, model: "bge-reranker", fake, adapter: "vllm" as const },
    { service: "rerank" as const, model: "bge-score", fake, adapter: "vllm" as const, path: "/v1/score" },
    { service: "stt" as const, model: "whisper", fake, adapter: "vllm" as const },
    { service: "tts" as const, model: "tts", fake, adapter: "vllm" as const },
  ];
  await withGateway([fake], mounts, async ({ client, post }) => {
    const chat = await client.chat.completions.create({ model: "qwen3", messages: USER });
    assert.equal(chat.system_fingerprint, "fp_vllm");
    const streamed = await streamChat(client, "qwen3", fake);
    assert.equal(streamed.text, REPLY);
    assert.equal(streamed.openAtFirst, 1);

    const emb = await client.embeddings.create({ model: "bge-m3", input: ["a", "b", "c"] });
    assert.deepEqual(emb.data.map((d) => d.embedding), [vectorOf(0), vectorOf(1), vectorOf(2)]);

    const rr = await post("/v1/rerank", { model: "bge-reranker", query: "deno", documents: DOCS, top_n: 3 });
    assert.equal(rr.status, 200);
    assert.deepEqual(rr.body, {
      id: "rerank-vllm",
      model: "bge-reranker",
      results: [
        { index: 1, relevance_score: 0.89, document: { text: "deno runtime" } },
        { index: 3, relevance_score: 0.87, document: { text: "deno deploy" } },
        { index: 2, relevance_score: 0.12, document: { text: "rust crabs" } },
      ],
      usage: { total_tokens: 16 },
    });
    const score = await post("/v1/rerank", {
      model: "bge-score",
      query: "deno",
      documents: DOCS.map((text) => ({ text })),
      return_documents: false,
    });
    assert.equal(score.status, 200);
    assert.deepEqual(score.body.results, [
      { index: 1, relevance_score: 0.89 },
      { index: 3, relevance_score: 0.87 },
      { index: 2, relevance_score: 0.12 },
      { index: 0, relevance_score: 0.1 },
    ]);
    assert.deepEqual(fake.last("/v1/score").json, { model: "bge-score", text_1: "deno", text_2: DOCS });

    const text = await client.audio.transcriptions.create({ model: "whisper", file: await audioFile() });
    assert.equal(text.text, "vllm heard 16 bytes");
    const verbose = await client.audio.transcriptions.create({
      model: "whisper",
      file: await audioFile(),
      response_format: "verbose_json",
    });
    assert.equal(verbose.text, "vllm heard 16 bytes");
    const before = fake.requests.length;
    await assert.rejects(
      client.audio.transcriptions.create({
        model: "whisper",
        file: await audioFile(),
        response_format: "srt",
      }),
      (e: unknown) =>
        e instanceof OpenAI.BadRequestError &&
        e.message.includes('response_format "srt" is not supported by vLLM transcription') &&
        e.param === "response_format",
    );
    await assert.rejects(
      client.audio.speech.create({ model: "tts", voice: "alloy", input: "x" }),
      (e: unknown) => e instanceof OpenAI.BadRequestError && /does not serve speech/.test(e.message),
    );
    assert.equal(fake.requests.length, before, "refused requests never reached vLLM");
    const probe = await assertProbe(fake, {
      adapter: "vllm",
      service: "chat",
      path: "/health",
      apiKey: "sk-vllm",
    });
    assert.equal(probe.seen.headers.get("authorization"), "Bearer sk-vllm");
  });
});

Deno.test("llamacpp adapter: chat, completions, base64 embeddings, rerank filled with documents, /health", async () => {
  const fake = startLlamacpp();
  const mounts = [
    { service: "chat" as const, model: "gemma", fake, adapter: "llamacpp" as const },
    { service: "embedding" as const, model: "gemma-emb", fake, adapter: "llamacpp" as const },
    { service: "rerank" as const, model: "bge-reranker", fake, adapter: "llamacpp" as const },
    { service: "tts" as const, model: "tts", fake, adapter: "llamacpp" as const },
  ];
  await withGateway([fake], mounts, async ({ client, post }) => {
    const streamed = await streamChat(client, "gemma", fake);
    assert.equal(streamed.text, REPLY);
    assert.equal(streamed.openAtFirst, 1);
    const legacy = await client.completions.create({ model: "gemma", prompt: "Once" });
    assert.equal(legacy.choices[0].text, REPLY);
    assert.equal(fake.requests.at(-1)?.path, "/v1/completions");

    const emb = await client.embeddings.create({ model: "gemma-emb", input: "a" });
    assert.deepEqual(emb.data[0].embedding, vectorOf(0));

    const rr = await post("/v1/rerank", {
      model: "bge-reranker",
      query: "deno",
      documents: DOCS,
      top_n: 2,
      return_documents: true,
    });
    assert.equal(rr.status, 200);
    assert.deepEqual(rr.body, {
      model: "bge-reranker",
      results: [
        { index: 1, relevance_score: 0.89, document: { text: "deno runtime" } },
        { index: 3, relevance_score: 0.87, document: { text: "deno deploy" } },
      ],
      usage: { prompt_tokens: 24, total_tokens: 24 },
    });
    const bare = await post("/v1/rerank", {
      model: "bge-reranker",
      query: "deno",
      documents: DOCS,
      top_n: 1,
    });
    assert.deepEqual(bare.body.results, [{ index: 1, relevance_score: 0.89 }]);

    const tts = {
      path: "/v1/audio/speech",
      body: { model: "tts", voice: "a", input: "x" },
      error: "The llama.cpp backend does not serve speech (TTS).",
    };
    await assertRefusedAndProbe(post, fake, [tts], { adapter: "llamacpp", service: "chat", path: "/health" });
  });
});

Deno.test("triton adapter: chat, streamed chat, completions and embeddings on OpenAI routes; no rerank; /v1/models", async () => {
  const fake = startTriton();
  const mounts = [
    { service: "chat" as const, model: "llama-3-8b-trtllm", fake, adapter: "triton" as const },
    { service: "embedding" as const, model: "e5", fake, adapter: "triton" as const },
    { service: "rerank" as const, model: "rr", fake, adapter: "triton" as const },
  ];
  await withGateway([fake], mounts, async ({ client, post }) => {
    const chat = await client.chat.completions.create({ model: "llama-3-8b-trtllm", messages: USER });
    assert.equal(chat.system_fingerprint, "fp_triton");
    const streamed = await streamChat(client, "llama-3-8b-trtllm", fake);
    assert.equal(streamed.text, REPLY);
    assert.equal(streamed.openAtFirst, 1);
    assert.equal(streamed.finish, "stop");
    const legacy = await client.completions.create({ model: "llama-3-8b-trtllm", prompt: "Once" });
    assert.equal(legacy.choices[0].text, REPLY);
    const emb = await client.embeddings.create({ model: "e5", input: ["a", "b"] });
    assert.deepEqual(emb.data.map((d) => d.embedding), [vectorOf(0), vectorOf(1)]);

    const rerank = {
      path: "/v1/rerank",
      body: { model: "rr", query: "q", documents: DOCS },
      error: "The Triton backend does not serve rerank.",
    };
    await assertRefusedAndProbe(post, fake, [rerank], {
      adapter: "triton",
      service: "chat",
      path: "/v1/models",
    });
  });
});
